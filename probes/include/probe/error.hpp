#pragma once
// Typed exceptions used inside the libraries; caught at the device boundary (Device::measure) or in main.
#include <stdexcept>
#include <string>

namespace probe {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input (a flag, a file, an entry in a data file): exit status 2 with this message.
class InputError : public Error {
 public:
  using Error::Error;
};

// A backend or plugin could not be used (missing runtime, ABI mismatch): reported, never fatal.
class BackendError : public Error {
 public:
  using Error::Error;
};

// A device error after which the device runs nothing more in this process (CUDA/HIP sticky errors: an illegal
// address, a launch failure, an uncorrectable ECC error poison the context). Caught by the backend's measure(),
// which sets Measurement::device_aborted.
class DeviceAbortedError : public BackendError {
 public:
  using BackendError::BackendError;
};

// A kernel produced a wrong result: the measurement is `failed`, never a number.
class VerificationError : public Error {
 public:
  using Error::Error;
};

// The operating system refused something we need (memory, thread placement, a timer).
class SystemError : public Error {
 public:
  using Error::Error;
};

}  // namespace probe
