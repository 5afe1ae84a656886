#pragma once
/// \file REGULA_ARG: LibTorch's TORCH_ARG for our option structs, so options
/// read like `KTVOptions(2).power(2).samples(256)`.
#include <utility>

#define REGULA_ARG(T, name)                                        \
 public:                                                           \
  inline auto name(const T& new_##name)->decltype(*this) {         \
    this->name##_ = new_##name;                                    \
    return *this;                                                  \
  }                                                                \
  inline auto name(T&& new_##name)->decltype(*this) {              \
    this->name##_ = std::move(new_##name);                         \
    return *this;                                                  \
  }                                                                \
  inline const T& name() const noexcept { return this->name##_; }  \
  inline T& name() noexcept { return this->name##_; }              \
                                                                   \
 private:                                                          \
  T name##_
