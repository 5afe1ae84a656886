#pragma once
/// \file Scale-out on c10d: the launch environment, one process group per
/// process, and the few collectives the runners need.
///
/// Launch as users already do:
///
///     torchrun --nproc-per-node 2 --no-python build/apps/regula sweep ...
///     srun -n 2 build/apps/regula train parallel=data ...
///
/// `read_launch_env` reads torchrun's RANK, WORLD_SIZE, LOCAL_RANK,
/// MASTER_ADDR, MASTER_PORT (with TORCHELASTIC_USE_AGENT_STORE=True the agent
/// serves the store and every rank connects as a client), or Slurm's
/// SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID as the fallback.  A world of one
/// needs nothing: every call below is then a no-op on one process.
///
/// Collectives run on Gloo (CPU tensors, and everything the runners gather)
/// and, for CUDA tensors, on NCCL.  The distributed part is compiled only where
/// gloo's headers were found (Debian's libgloo-dev; libtorch exports gloo
/// itself); other builds run one process and refuse WORLD_SIZE > 1 with one line.
/// A peer that dies or stops answering for `timeout` ends a collective with a
/// DistributedError naming the rank, never a hang.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/errors.h"

namespace regula {
/// A distributed run failed: a peer rank died or timed out, or the launch environment is wrong.
class DistributedError : public Error { using Error::Error; };
}  // namespace regula

namespace regula::core {

/// Where this process sits in a launch.
struct LaunchEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  bool agent_store = false;    ///< torchrun's agent serves the store: every rank is a client
  int64_t restart_count = 0;   ///< TORCHELASTIC_RESTART_COUNT (the agent store's key prefix)
  std::string launcher = "";   ///< "torchrun", "slurm" or "" (one process)
};

/// Reads the launch environment (see the file comment); a DistributedError naming the
/// variable when one is malformed or inconsistent (e.g. RANK >= WORLD_SIZE).
LaunchEnv read_launch_env();

/// True when this build has the distributed part (gloo headers were found).
bool distributed_support();

/// The process group of this process and its collectives.  Every collective must be
/// called by all ranks in the same order.
class DistributedContext {
 public:
  /// A world of one (no process group).
  DistributedContext();
  /// Connects to the store and creates the process group; a world of one does nothing.
  /// `timeout`: how long a collective (or the rendezvous) waits for a peer.
  explicit DistributedContext(const LaunchEnv& env, std::chrono::milliseconds timeout);
  ~DistributedContext();
  DistributedContext(const DistributedContext&) = delete;
  DistributedContext& operator=(const DistributedContext&) = delete;

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  int64_t local_rank() const { return env_.local_rank; }
  bool active() const { return env_.world_size > 1; }
  bool is_main() const { return env_.rank == 0; }
  const LaunchEnv& env() const { return env_; }

  /// Waits for every rank.
  void barrier() const;
  /// Sums `tensors` over the ranks in place (one collective per bucket of at most
  /// `bucket_bytes`, tensors of one dtype and device flattened together).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors, int64_t bucket_bytes = int64_t(25) << 20) const;
  /// Overwrites `tensors` with rank `root`'s values.
  void broadcast(std::vector<torch::Tensor>& tensors, int64_t root = 0) const;
  /// Every rank's `mine` (any shapes; CPU or CUDA), in rank order, on every rank.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& mine) const;
  /// Every rank's string, in rank order, on every rank.
  std::vector<std::string> all_gather(const std::string& mine) const;
  /// Rank `root`'s string on every rank.
  std::string broadcast(const std::string& text, int64_t root = 0) const;

 private:
  struct Impl;
  LaunchEnv env_;
  std::chrono::milliseconds timeout_{0};
  std::unique_ptr<Impl> impl_;
};

/// The process's context: set by `init_distributed` (a world of one before).
const DistributedContext& distributed();

/// Reads the launch environment and creates the process's context (once, in main) and
/// line-buffers stdout.  What a distributed run shares: rank 0 creates the run directory
/// (core::RunDir::create hands every rank its path) and alone writes its config and
/// results; main turns the log level of ranks > 0 down to errors, so that rank 0 alone
/// reports progress.  The timeout is REGULA_DIST_TIMEOUT_S (seconds, default 300).
/// The context lives until `shutdown_distributed`.
const DistributedContext& init_distributed();

/// Waits for every rank (unless `failed`), then drops the process group.
void shutdown_distributed(bool failed);

/// "[rank R/W] " on a distributed run, else "" (the prefix of a rank's error line).
std::string rank_prefix();

/// The rows [begin, end) of `n` that rank `rank` of `world` takes (contiguous, the first
/// n % world ranks one more).
std::pair<int64_t, int64_t> shard_range(int64_t n, int64_t rank, int64_t world);

/// Refuses a command that does not run distributed when WORLD_SIZE > 1.
void require_single_process(const std::string& command);

}  // namespace regula::core
