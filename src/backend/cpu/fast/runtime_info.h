// Facts about the libraries the fast CPU kernels use, for the engine's target facts.
#pragma once
#include <string>

namespace kestrel::cpu::fast {

// The oneDNN version loaded at run time ("2.6.3").
std::string onednn_runtime_version();

}  // namespace kestrel::cpu::fast
