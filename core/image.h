#pragma once
/// \file PNG output (stb_image_write) and image grids.
#include <filesystem>
#include <vector>

#include <torch/types.h>

namespace regula::core {

/// Writes `image` as PNG: shape [H, W] (grayscale) or [H, W, 3] (RGB),
/// floating values in [0, 1] (clamped) or uint8.  `scale` > 1 enlarges each
/// pixel to a scale x scale block (nearest neighbour) for small images.
void write_png(const std::filesystem::path& path, const torch::Tensor& image, int scale = 1);

/// Tiles [H, W] images (float, [0, 1]) into a grid with `cols` columns and
/// `pad` pixels of `pad_value` between cells.
torch::Tensor image_grid(const std::vector<torch::Tensor>& images, int64_t cols, int64_t pad = 2,
                         double pad_value = 1.0);

}  // namespace regula::core
