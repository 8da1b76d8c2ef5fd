// Splitting a run over machines: shard K of N (0 <= K < N, the numbering of Slurm's array task
// ids) takes the sequences at positions K, K+N, K+2N, ... of the split's list (round robin, so
// shards get similar mixes of long and short sequences). Each finished shard leaves a manifest,
// RESULTS/shard_K_of_N.txt, which `kestrel report` reads to merge shards and to notice missing ones.
#pragma once
#include <string>
#include <vector>

namespace kestrel::eval {

struct Shard {
  int index = 0, count = 1;
  bool owns(size_t position) const { return int(position % size_t(count)) == index; }
};

// "K/N"; throws kestrel::Error with the reason.
Shard parse_shard(const std::string& text);

struct Manifest {
  std::string name;   // the result set's name: shards with the same name are merged
  std::string split;
  Shard shard;
  int runs = 1;
  std::string template_engine, track_engine, device;
  int batch = 1;
  size_t sequences = 0;  // this shard's
  size_t finished = 0;   // tracked now or found finished (--resume)
  std::vector<std::string> failed;  // "<seq>: <reason>"
};

// A result set's name when none is given: the results folder's own name ("out/smat_fp16/" ->
// "smat_fp16").
std::string default_set_name(const std::string& results);

std::string manifest_file(const std::string& results, const Shard& shard);
void write_manifest(const std::string& results, const Manifest& manifest);
// Every shard_*_of_*.txt in the folder; throws kestrel::Error naming a malformed one.
std::vector<Manifest> read_manifests(const std::string& results);

}  // namespace kestrel::eval
