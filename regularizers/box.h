#pragma once
/// \file The integration domain of k-TV: an axis-aligned box, explicit or taken from data, and
/// coordinate sampling.
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace regula::regularizers {

/// \Omega = [low_1, high_1] x ... x [low_d, high_d].
struct Box {
  std::vector<double> low;
  std::vector<double> high;

  int64_t dim() const { return static_cast<int64_t>(low.size()); }
  /// vol(\Omega) = \prod_j (high_j - low_j).
  double volume() const;
  /// The box with every side widened by `padding` times its length on both ends.
  Box padded(double padding) const;
  /// The same box for every one of `d` coordinates when this one has dimension 1.
  Box broadcast(int64_t d) const;
};

/// A face of a box: coordinate `coordinate` fixed at its lower (upper = false) or upper bound.
struct BoxFace {
  int64_t coordinate = 0;
  bool upper = false;
};

/// Draws points of a box on a device without host transfers per call (the box's corners are
/// kept on the device of the last call).
class BoxSampler {
 public:
  explicit BoxSampler(Box box = {}) : box_(std::move(box)) {}
  const Box& box() const { return box_; }
  /// `count` points [count, d] uniform in the box, in `options`' dtype and device (default generator).
  torch::Tensor uniform(int64_t count, const torch::TensorOptions& options);
  /// `count` points uniform on the union of `faces`: each point's face is drawn with
  /// probability proportional to its measure, then a uniform point on it.
  torch::Tensor on_faces(const std::vector<BoxFace>& faces, int64_t count,
                         const torch::TensorOptions& options);

 private:
  void place(const torch::TensorOptions& options);
  Box box_;
  torch::Tensor low_, width_;
};

/// The bounding box of the rows of `inputs` [n, d]; a DataError when it is empty or flat along
/// a coordinate (then give the domain explicitly).
Box bounding_box(const torch::Tensor& inputs);

/// `count` distinct coordinates of 0..d-1 drawn uniformly without replacement (all of them, in
/// order, when count == 0 or count >= d), as int64 on `device`.
torch::Tensor sample_coordinates(int64_t d, int64_t count, const torch::Device& device);

}  // namespace regula::regularizers
