#pragma once
/// \file MNIST images from the standard IDX files (raw or gzip-compressed,
/// any number of images), and a 28x28 digit Regula draws itself so that
/// image experiments run without any download.
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

/// A handwriting-like "3" drawn with anti-aliased strokes on a 28x28 grid,
/// float64 in [0, 1], about 20% of pixels nonzero, like an MNIST digit.
torch::Tensor builtin_digit();

}  // namespace regula::core
