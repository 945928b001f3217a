// The plugin's entry points: the only symbols the binary exports. Every action goes
// through main_entry, which catches everything: no C++ exception crosses the C ABI.
#include <cstring>
#include <exception>
#include <string>

#include "describe.h"
#include "identity.h"
#include "instance.h"
#include "messages.h"
#include "ofx_names.h"
#include "render.h"
#include "suites.h"
#include "transport.h"

#define EE_EXPORT extern "C" __attribute__((visibility("default")))

namespace ee {

namespace {

OfxStatus dispatch(const char *action, OfxImageEffectHandle effect, OfxPropertySetHandle in_args,
                   OfxPropertySetHandle out_args) {
  auto is = [action](const char *name) { return std::strcmp(action, name) == 0; };
  // Load, Describe and CreateInstance come again and again (MLT: for every frame): keep them cheap, no Python.
  if (is(kOfxActionLoad)) return fetch_suites();
  if (suites().prop.load() == nullptr) return kOfxStatErrMissingHostFeature;  // an action before Load
  if (is(kOfxActionUnload)) return kOfxStatOK;  // the interpreter is never finalised (numpy, torch cannot restart)
  if (is(kOfxActionDescribe)) return describe(effect);
  if (is(kOfxImageEffectActionDescribeInContext)) return describe_in_context(effect, in_args);
  if (is(kOfxActionCreateInstance)) return create_instance(effect);
  if (is(kOfxActionDestroyInstance)) return destroy_instance(effect);
  if (is(kOfxImageEffectActionRender)) return render(effect, in_args);
  if (is(kOfxImageEffectActionGetRegionsOfInterest)) return regions_of_interest(effect, in_args, out_args);
  if (is(kOfxImageEffectActionGetClipPreferences)) return clip_preferences(effect, out_args);
  if (is(kOfxImageEffectActionIsIdentity)) return is_identity(effect, in_args, out_args);
  if (is(kOfxActionPurgeCaches)) {
    if (Transport *t = existing_transport()) t->purge();
    return kOfxStatOK;
  }
  return kOfxStatReplyDefault;
}

OfxStatus main_entry(const char *action, const void *handle, OfxPropertySetHandle in_args,
                     OfxPropertySetHandle out_args) {
  if (action == nullptr) return kOfxStatErrBadHandle;
  auto effect = static_cast<OfxImageEffectHandle>(const_cast<void *>(handle));
  try {
    return dispatch(action, effect, in_args, out_args);
  } catch (const std::exception &e) {
    log_line(Level::Error, std::string("internal error in ") + action + ": " + e.what());
  } catch (...) {
    log_line(Level::Error, std::string("internal error in ") + action);
  }
  return kOfxStatFailed;
}

void set_host_entry(OfxHost *host) {
  set_host(host);
}

OfxPlugin g_plugin = {
    kOfxImageEffectPluginApi, 1,          kPluginIdentifier, kPluginVersionMajor, kPluginVersionMinor,
    set_host_entry,           main_entry,
};

}  // namespace

}  // namespace ee

EE_EXPORT int OfxGetNumberOfPlugins(void) {
  return 1;
}

EE_EXPORT OfxPlugin *OfxGetPlugin(int nth) {
  return nth == 0 ? &ee::g_plugin : nullptr;
}

// Optional since OFX 1.5; hosts that call it do so before anything else.
EE_EXPORT OfxStatus OfxSetHost(const OfxHost *host) {
  ee::set_host(host);
  return kOfxStatOK;
}
