#pragma once
/// \file `regula recover`: one sparse-recovery problem and its replicates
/// (one per seed, and per digit for images), several depths advanced as one
/// batched GD computation; oracle windows, data-driven early stopping on a
/// validation split, min-norm least squares and the Lasso on the same data.
/// Writes summary.csv, runs.csv, curves.csv, paths.csv,
/// early_stopping_N<depth>.csv and, for images, the recovered images (.npy,
/// PNG grid) into the run directory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/run.h"
#include "trainers/sparse/metrics.h"

namespace regula::sparse {

/// One row of the summary table (medians over the replicates).
struct MethodRow {
  std::string method;             ///< "depth N", "min-norm LS", "Lasso"
  int64_t depth = 0;              ///< 0 for baselines
  double lr = NAN, w0 = NAN, alpha = NAN;
  double best_error = NAN, best_step = NAN;  ///< oracle best iterate
  Window coord, err;              ///< oracle windows (err: of the median error curve)
  double val_sel_error = NAN;     ///< error of the iterate of least validation loss
  double es_error = NAN, es_step = NAN;      ///< data-driven early stopping
  double psnr_best = NAN, psnr_es = NAN;     ///< images: PSNR (dB) of the best / early-stopped iterate (baselines: psnr_es)
  std::string note;
};

/// What a recover run produced.
struct RecoverReport {
  std::filesystem::path dir;
  std::vector<MethodRow> rows;
};

/// The embedded defaults of `regula recover` (experiment 2, shortened); every
/// key they do not set takes the default of its options struct.
extern const char* const kRecoverDefaults;

/// Runs `regula recover` for `request` (`embedded_defaults` when no --config);
/// `command` names the defaults in messages.
RecoverReport run_recover(const core::RunRequest& request, const std::string& embedded_defaults = kRecoverDefaults,
                          const std::string& command = "recover");

}  // namespace regula::sparse
