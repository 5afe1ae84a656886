#include "core/image.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include "core/errors.h"

namespace regula::core {

void write_png(const std::filesystem::path& path, const torch::Tensor& image, int scale) {
  if (!(image.dim() == 2 || (image.dim() == 3 && image.size(2) == 3))) {
    throw Error(fmt::format("write_png('{}'): image must be [H, W] or [H, W, 3], got {}", path.string(),
                            fmt::join(image.sizes(), "x")));
  }
  if (scale < 1) throw Error(fmt::format("write_png: scale must be >= 1, got {}", scale));
  torch::Tensor img = image.detach().cpu();
  if (img.scalar_type() != torch::kUInt8) {
    img = img.to(torch::kDouble).nan_to_num(0.0).clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8);
  }
  if (scale > 1) img = img.repeat_interleave(scale, 0).repeat_interleave(scale, 1);
  img = img.contiguous();
  const int h = static_cast<int>(img.size(0)), w = static_cast<int>(img.size(1));
  const int channels = img.dim() == 3 ? 3 : 1;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path());
  if (!stbi_write_png(path.c_str(), w, h, channels, img.data_ptr<uint8_t>(), w * channels)) {
    throw Error(fmt::format("cannot write PNG '{}': check that the directory is writable", path.string()));
  }
}

torch::Tensor image_grid(const std::vector<torch::Tensor>& images, int64_t cols, int64_t pad, double pad_value) {
  if (images.empty()) throw Error("image_grid: no images");
  const int64_t h = images[0].size(0), w = images[0].size(1);
  const int64_t n = static_cast<int64_t>(images.size());
  cols = std::max<int64_t>(1, std::min(cols, n));
  const int64_t rows = (n + cols - 1) / cols;
  auto grid = torch::full({rows * (h + pad) + pad, cols * (w + pad) + pad}, pad_value, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    const auto& im = images[static_cast<std::size_t>(i)];
    if (im.dim() != 2 || im.size(0) != h || im.size(1) != w) {
      throw Error(fmt::format("image_grid: image {} has shape {}, expected {}x{}", i, fmt::join(im.sizes(), "x"), h, w));
    }
    const int64_t r = i / cols, c = i % cols;
    grid.narrow(0, pad + r * (h + pad), h).narrow(1, pad + c * (w + pad), w).copy_(im.detach().cpu().to(torch::kDouble));
  }
  return grid;
}

}  // namespace regula::core
