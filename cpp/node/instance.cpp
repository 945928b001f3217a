#include "instance.h"

#include "ofx_names.h"
#include "suites.h"

namespace ee {

Instance *instance_of(OfxImageEffectHandle effect) {
  OfxPropertySetHandle p = nullptr;
  void *data = nullptr;
  if (effects().getPropertySet(effect, &p) != kOfxStatOK || p == nullptr) return nullptr;
  if (props().propGetPointer(p, kOfxPropInstanceData, 0, &data) != kOfxStatOK) return nullptr;
  return static_cast<Instance *>(data);
}

OfxStatus create_instance(OfxImageEffectHandle effect) {
  OfxPropertySetHandle p = nullptr;
  if (effects().getPropertySet(effect, &p) != kOfxStatOK || p == nullptr) return kOfxStatErrBadHandle;
  auto *instance = new Instance();
  effects().clipGetHandle(effect, kOfxImageEffectSimpleSourceClipName, &instance->source, nullptr);
  effects().clipGetHandle(effect, kOfxImageEffectOutputClipName, &instance->output, nullptr);
  OfxParamSetHandle set = nullptr;
  effects().getParamSet(effect, &set);
  for (std::size_t i = 0; i < param::kValueCount; ++i) {
    if (set == nullptr ||
        params().paramGetHandle(set, param::kValues[i].name, &instance->values[i], nullptr) != kOfxStatOK) {
      instance->values[i] = nullptr;  // reported at render time, where a message can be shown
    }
  }
  props().propSetPointer(p, kOfxPropInstanceData, 0, instance);
  return kOfxStatOK;
}

OfxStatus destroy_instance(OfxImageEffectHandle effect) {
  Instance *instance = instance_of(effect);
  if (instance != nullptr) {
    OfxPropertySetHandle p = nullptr;
    if (effects().getPropertySet(effect, &p) == kOfxStatOK && p != nullptr) {
      props().propSetPointer(p, kOfxPropInstanceData, 0, nullptr);
    }
    delete instance;
  }
  return kOfxStatOK;
}

}  // namespace ee
