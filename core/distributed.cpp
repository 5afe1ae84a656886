#include "core/distributed.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "core/logging.h"

#if REGULA_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if REGULA_WITH_CUDA && defined(USE_C10D_NCCL)
#define REGULA_WITH_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace regula::core {
namespace {

const char* env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = env_or_null(name);
  if (!v) return fallback;
  try {
    std::size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used == std::string(v).size()) return x;
  } catch (const std::exception&) {
  }
  throw DistributedError(fmt::format("environment variable {}='{}' is not an integer (the launcher sets it: run "
                                     "under torchrun or srun, or unset it to run one process)", name, v));
}

// The first line of an exception from c10d (its backtrace follows).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

LaunchEnv read_launch_env() {
  LaunchEnv e;
  if (env_or_null("WORLD_SIZE") || env_or_null("RANK")) {
    e.launcher = "torchrun";
    if (!env_or_null("WORLD_SIZE") || !env_or_null("RANK")) {
      throw DistributedError("RANK and WORLD_SIZE must be set together (torchrun sets both; unset both to run one process)");
    }
    e.rank = env_int("RANK", 0);
    e.world_size = env_int("WORLD_SIZE", 1);
    e.local_rank = env_int("LOCAL_RANK", e.rank);
  } else if (env_or_null("SLURM_PROCID") && env_or_null("SLURM_NTASKS")) {
    e.launcher = "slurm";
    e.rank = env_int("SLURM_PROCID", 0);
    e.world_size = env_int("SLURM_NTASKS", 1);
    e.local_rank = env_int("SLURM_LOCALID", 0);
    // Under srun the store runs on rank 0's node: MASTER_ADDR if given, else the launch node.
    if (!env_or_null("MASTER_ADDR") && env_or_null("SLURM_LAUNCH_NODE_IPADDR")) {
      e.master_addr = env_or_null("SLURM_LAUNCH_NODE_IPADDR");
    }
    // One port per job, so that two jobs on one node do not meet.
    e.master_port = 20000 + env_int("SLURM_JOB_ID", 9500) % 20000;
  }
  if (e.world_size < 1) {
    throw DistributedError(fmt::format("WORLD_SIZE={} is not valid: the number of processes, >= 1", e.world_size));
  }
  if (e.rank < 0 || e.rank >= e.world_size) {
    throw DistributedError(fmt::format("rank {} is not valid for a world of {} processes (0..{})", e.rank,
                                       e.world_size, e.world_size - 1));
  }
  if (const char* a = env_or_null("MASTER_ADDR")) e.master_addr = a;
  e.master_port = env_int("MASTER_PORT", e.master_port);
  if (e.world_size > 1 && (e.master_port < 1 || e.master_port > 65535)) {
    throw DistributedError(fmt::format("MASTER_PORT={} is not a TCP port (1..65535)", e.master_port));
  }
  if (e.world_size > 1 && e.launcher == "torchrun" && (!env_or_null("MASTER_ADDR") || !env_or_null("MASTER_PORT"))) {
    throw DistributedError("WORLD_SIZE > 1 needs MASTER_ADDR and MASTER_PORT (torchrun sets them): the address and "
                           "port of rank 0's store");
  }
  const char* agent = env_or_null("TORCHELASTIC_USE_AGENT_STORE");
  e.agent_store = agent && std::string(agent) == "True";
  e.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0);
  return e;
}

std::pair<int64_t, int64_t> shard_range(int64_t n, int64_t rank, int64_t world) {
  const int64_t base = n / world, extra = n % world;
  const int64_t begin = rank * base + std::min(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

#if REGULA_WITH_DISTRIBUTED

bool distributed_support() { return true; }

struct DistributedContext::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> gloo;
  mutable c10::intrusive_ptr<c10d::Backend> nccl;  // created by the first collective on CUDA tensors
};

namespace {

// Runs one collective and waits for it; a failure (a dead or silent peer) becomes one line.
template <class F>
void collective(const DistributedContext& ctx, std::chrono::milliseconds timeout, const char* what, F&& start) {
  try {
    auto work = start();
    work->wait(timeout);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format(
        "{}{} across {} ranks failed: another rank stopped or did not answer within {} s (REGULA_DIST_TIMEOUT_S); "
        "see that rank's error, fix it and --resume the run directory [{}]",
        fmt::format("[rank {}/{}] ", ctx.rank(), ctx.world_size()), what, ctx.world_size(), timeout.count() / 1000, first_line(e.what())));
  }
}

}  // namespace

DistributedContext::DistributedContext(const LaunchEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  if (!active()) return;
  const auto where = fmt::format("{}:{}", env_.master_addr, env_.master_port);
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(env_.master_port);
    o.timeout = timeout;
    if (env_.agent_store) {
      // torchrun's agent serves the store; its keys of each restart live under their own prefix.
      o.isServer = false;
      auto tcp = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, o);
      impl_->store = c10::make_intrusive<c10d::PrefixStore>(fmt::format("/worker/attempt_{}", env_.restart_count), tcp);
    } else {
      o.isServer = env_.rank == 0;
      o.numWorkers = static_cast<std::size_t>(env_.world_size);
      o.multiTenant = true;
      impl_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, o);
    }
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("{}could not {} the store at {} within {} s (MASTER_ADDR/MASTER_PORT; is the "
                                       "port free and every rank started?) [{}]", rank_prefix(),
                                       env_.rank == 0 && !env_.agent_store ? "serve" : "reach", where,
                                       timeout.count() / 1000, first_line(e.what())));
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = env_or_null("GLOO_SOCKET_IFNAME")) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (env_.master_addr == "127.0.0.1" || env_.master_addr == "localhost") {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 1;
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("regula/gloo", impl_->store),
                                                              static_cast<int>(env_.rank),
                                                              static_cast<int>(env_.world_size), options);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("{}the Gloo process group of {} ranks (store {}) could not be formed within {} s: "
                                       "every rank must start (GLOO_SOCKET_IFNAME names the network interface) [{}]",
                                       rank_prefix(), env_.world_size, where, timeout.count() / 1000,
                                       first_line(e.what())));
  }
}


void DistributedContext::barrier() const {
  if (!active()) return;
  collective(*this, timeout_, "a barrier", [&] { return impl_->gloo->barrier(); });
}

namespace {

// The backend of a tensor: NCCL for CUDA tensors (created on first use, by every rank at
// the same collective), else Gloo.
c10d::Backend& backend(const DistributedContext& ctx, c10::intrusive_ptr<c10d::Store>& store,
                       const c10::intrusive_ptr<c10d::Backend>& gloo, c10::intrusive_ptr<c10d::Backend>& nccl,
                       const torch::Tensor& t, std::chrono::milliseconds timeout) {
  if (!t.is_cuda()) return *gloo;
#ifdef REGULA_WITH_NCCL
  if (!nccl) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("regula/nccl", store),
                                                       static_cast<int>(ctx.rank()), static_cast<int>(ctx.world_size()),
                                                       options);
  }
  return *nccl;
#else
  throw DistributedError("this build has no NCCL (a CPU-only LibTorch): run distributed training on device=cpu");
#endif
}

}  // namespace

void DistributedContext::all_reduce_sum(std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) const {
  if (!active() || tensors.empty()) return;
  std::size_t i = 0;
  while (i < tensors.size()) {
    // A bucket: consecutive tensors of one dtype and device, up to bucket_bytes.
    std::size_t j = i;
    int64_t bytes = 0;
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           tensors[j].device() == tensors[i].device() && (j == i || bytes + static_cast<int64_t>(tensors[j].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(tensors[j].nbytes());
      ++j;
    }
    std::vector<torch::Tensor> flat{j - i == 1 && tensors[i].is_contiguous() ? tensors[i] : torch::Tensor()};
    if (!flat[0].defined()) {
      std::vector<torch::Tensor> parts;
      for (std::size_t k = i; k < j; ++k) parts.push_back(tensors[k].reshape(-1));
      flat[0] = torch::cat(parts);
    }
    auto& b = backend(*this, impl_->store, impl_->gloo, impl_->nccl, flat[0], timeout_);
    collective(*this, timeout_, "an allreduce", [&] { return b.allreduce(flat); });
    if (!flat[0].is_same(tensors[i])) {
      int64_t offset = 0;
      for (std::size_t k = i; k < j; ++k) {
        const int64_t n = tensors[k].numel();
        tensors[k].copy_(flat[0].slice(0, offset, offset + n).view(tensors[k].sizes()));
        offset += n;
      }
    }
    i = j;
  }
}

void DistributedContext::broadcast(std::vector<torch::Tensor>& tensors, int64_t root) const {
  if (!active()) return;
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    auto& b = backend(*this, impl_->store, impl_->gloo, impl_->nccl, one[0], timeout_);
    collective(*this, timeout_, "a broadcast", [&] { return b.broadcast(one, o); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

std::vector<torch::Tensor> DistributedContext::all_gather(const torch::Tensor& mine) const {
  if (!active()) return {mine.reshape(-1)};
  auto& b = backend(*this, impl_->store, impl_->gloo, impl_->nccl, mine, timeout_);
  // Sizes first, then every rank's values padded to the largest.
  std::vector<torch::Tensor> count{torch::full({1}, mine.numel(), torch::TensorOptions().dtype(torch::kInt64).device(mine.device()))};
  std::vector<std::vector<torch::Tensor>> counts(1);
  for (int64_t r = 0; r < world_size(); ++r) counts[0].push_back(torch::empty_like(count[0]));
  collective(*this, timeout_, "an allgather", [&] { return b.allgather(counts, count); });
  std::vector<int64_t> n;
  int64_t most = 1;  // never an empty collective
  for (const auto& c : counts[0]) n.push_back(c.cpu().item<int64_t>()), most = std::max(most, n.back());
  std::vector<torch::Tensor> padded{torch::zeros({most}, mine.options())};
  padded[0].slice(0, 0, mine.numel()).copy_(mine.reshape(-1));
  std::vector<std::vector<torch::Tensor>> all(1);
  for (int64_t r = 0; r < world_size(); ++r) all[0].push_back(torch::empty_like(padded[0]));
  collective(*this, timeout_, "an allgather", [&] { return b.allgather(all, padded); });
  std::vector<torch::Tensor> out;
  for (int64_t r = 0; r < world_size(); ++r) out.push_back(all[0][static_cast<std::size_t>(r)].slice(0, 0, n[static_cast<std::size_t>(r)]));
  return out;
}

#else  // no gloo headers: a world of one, and a clear refusal of more

bool distributed_support() { return false; }

struct DistributedContext::Impl {};

DistributedContext::DistributedContext(const LaunchEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout) {
  if (active()) {
    throw DistributedError(fmt::format("WORLD_SIZE={} but this build has no distributed support: install libgloo-dev "
                                       "(scripts/setup.sh does) and rebuild", env_.world_size));
  }
}

void DistributedContext::barrier() const {}
void DistributedContext::all_reduce_sum(std::vector<torch::Tensor>&, int64_t) const {}
void DistributedContext::broadcast(std::vector<torch::Tensor>&, int64_t) const {}
std::vector<torch::Tensor> DistributedContext::all_gather(const torch::Tensor& mine) const { return {mine.reshape(-1)}; }

#endif

DistributedContext::DistributedContext() = default;
DistributedContext::~DistributedContext() = default;

std::vector<std::string> DistributedContext::all_gather(const std::string& mine) const {
  if (!active()) return {mine};
  const auto bytes = torch::from_blob(const_cast<char*>(mine.data()), {static_cast<int64_t>(mine.size())}, torch::kUInt8).clone();
  std::vector<std::string> out;
  for (const auto& t : all_gather(bytes)) {
    const auto c = t.contiguous();
    out.emplace_back(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<std::size_t>(c.numel()));
  }
  return out;
}

std::string DistributedContext::broadcast(const std::string& text, int64_t root) const {
  if (!active()) return text;
  return all_gather(text)[static_cast<std::size_t>(root)];
}

namespace {
std::unique_ptr<DistributedContext>& current() {
  static std::unique_ptr<DistributedContext> ctx;
  return ctx;
}
}  // namespace

const DistributedContext& distributed() {
  static const DistributedContext single;
  return current() ? *current() : single;
}

const DistributedContext& init_distributed() {
  const LaunchEnv env = read_launch_env();
  if (env.world_size == 1) return distributed();
  // A rank that fails must not lose its last lines in a buffer.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int64_t seconds = env_int("REGULA_DIST_TIMEOUT_S", 300);
  if (seconds < 1) throw DistributedError("REGULA_DIST_TIMEOUT_S must be >= 1 (seconds a rank waits for the others)");
  current() = std::make_unique<DistributedContext>(env, std::chrono::milliseconds(seconds * 1000));
  return *current();
}

void shutdown_distributed(bool failed) {
  if (!current()) return;
  if (!failed) current()->barrier();
  current().reset();
}

std::string rank_prefix() {
  const auto& d = distributed();
  return d.active() ? fmt::format("[rank {}/{}] ", d.rank(), d.world_size()) : std::string();
}

void require_single_process(const std::string& command) {
  const auto& d = distributed();
  if (!d.active()) return;
  throw ConfigError(fmt::format("`regula {}` runs as one process, not {}: launch it without torchrun/srun "
                                "(sweep and train run distributed)", command, d.world_size()));
}

}  // namespace regula::core
