// Outlines of the synthetic objects, as polygons normalised to touch the square [-1, 1]^2 on all
// four sides, so a pose's half extents are the unrotated object's box.
#pragma once
#include <string>

#include "synth/geometry.h"
#include "synth/rng.h"

namespace kestrel::synth {

enum class ShapeKind { kEllipse, kRectangle, kRoundedRectangle, kPolygon, kStar, kBlob, kCross, kCount };

const char* shape_name(ShapeKind kind);
ShapeKind random_shape_kind(Rng& rng);

// A random outline of the given kind (number of corners, star depth, blob lobes... drawn from rng).
Polygon make_outline(ShapeKind kind, Rng& rng);

}  // namespace kestrel::synth
