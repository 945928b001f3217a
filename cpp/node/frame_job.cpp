#include "transport.h"

#include <cctype>
#include <cstring>

#include "params.h"

namespace ee {

void FrameJob::add_int(const char *name, long long value) {
  EEValue v{};
  v.name = name;  // parameter names are static strings (params.h)
  v.kind = EE_INT;
  v.i = value;
  values_.push_back(v);
}

void FrameJob::add_double(const char *name, double value) {
  EEValue v{};
  v.name = name;
  v.kind = EE_DOUBLE;
  v.d = value;
  values_.push_back(v);
}

void FrameJob::add_string(const char *name, const char *value) {
  // Host strings are only valid until the next suite call: keep a copy.
  strings_.push_back(std::make_unique<std::string>(value != nullptr ? value : ""));
  EEValue v{};
  v.name = name;
  v.kind = EE_STRING;
  v.s = strings_.back()->c_str();
  values_.push_back(v);
}

std::size_t FrameJob::pixel_bytes() const {
  const std::size_t component = dtype == "uint8" ? 1 : dtype == "float32" ? 4 : 2;  // uint16, float16
  return component * static_cast<std::size_t>(components);
}

bool FrameJob::preview() const {
  for (const EEValue &v : values_) {
    if (std::strcmp(v.name, param::kAnalysisFile) != 0 || v.kind != EE_STRING) continue;
    // Blank as the engine sees it (emotionedit.node.params strips the path).
    for (const char *c = v.s; c != nullptr && *c != '\0'; ++c) {
      if (!std::isspace(static_cast<unsigned char>(*c))) return false;
    }
    return true;
  }
  return true;
}

const EEFrame &FrameJob::frame() {
  frame_.time = time;
  frame_.values = values_.data();
  frame_.value_count = static_cast<int>(values_.size());
  frame_.dtype = dtype.c_str();
  frame_.components = components;
  frame_.premultiplication = premultiplication.c_str();
  frame_.src = src;
  frame_.dst = dst;
  for (int i = 0; i < 4; ++i) frame_.window[i] = window[i];
  frame_.render_scale[0] = render_scale[0];
  frame_.render_scale[1] = render_scale[1];
  frame_.cuda = cuda ? 1 : 0;
  frame_.cuda_stream = cuda_stream;
  frame_.host_access = host_access;
  frame_.host_access_context = host_access_context;
  return frame_;
}

}  // namespace ee
