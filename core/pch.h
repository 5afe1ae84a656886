// Precompiled header shared by every Regula target: the LibTorch headers all
// of them need.  Narrow headers only; <torch/torch.h> is never included.
#pragma once
#include <fmt/format.h>
#include <torch/types.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/optimizer.h>
#include <torch/autograd.h>
#include <map>
#include <memory>
#include <string>
#include <vector>
