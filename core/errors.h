#pragma once
/// \file One exception family for everything a user can get wrong.
/// Library code throws; only apps/ turns an exception into a message and an
/// exit status.  Every message names the offending value and what is valid.
#include <stdexcept>
#include <string>

namespace regula {

/// Base of all Regula errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
/// A config file or override is malformed, unknown, mistyped or out of range.
class ConfigError : public Error { using Error::Error; };
/// A data file is missing, truncated, foreign or of the wrong shape.
class DataError : public Error { using Error::Error; };
/// A checkpoint is truncated, foreign or of another version.
class CheckpointError : public Error { using Error::Error; };
/// A device was requested that this machine does not have.
class DeviceError : public Error { using Error::Error; };
/// Training diverged (non-finite or exploding loss).
class DivergenceError : public Error { using Error::Error; };

}  // namespace regula
