// The boundary between the library (which throws kestrel::Error) and the public API (which never
// throws): runs a body, turns any failure into a Status and reports it to the logger.
#pragma once
#include <exception>
#include <new>

#include "core/error.h"
#include "kestrel/kestrel.h"

namespace kestrel {

template <typename Body>
Status guarded(ILogger* logger, Body&& body) {
  std::string message;
  try {
    body();
    return Status::success();
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what();
  }
  if (logger) logger->log(ILogger::Severity::kERROR, message.c_str());
  return Status::error(message);
}

}  // namespace kestrel
