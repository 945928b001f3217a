// Per-instance data: the clip and parameter handles, fetched once in CreateInstance
// (cheap: MLT creates an instance for every frame). No Python state lives here.
#pragma once

#include <array>

#include "ofx_core.h"
#include "params.h"

namespace ee {

struct Instance {
  OfxImageClipHandle source = nullptr;
  OfxImageClipHandle output = nullptr;
  std::array<OfxParamHandle, param::kValueCount> values{};  // in param::kValues order
};

OfxStatus create_instance(OfxImageEffectHandle effect);
OfxStatus destroy_instance(OfxImageEffectHandle effect);

// The instance data of an effect, or nullptr.
Instance *instance_of(OfxImageEffectHandle effect);

}  // namespace ee
