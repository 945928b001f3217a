#include "suites.h"

#include "ofx_names.h"

namespace ee {

HostSuites &suites() {
  static HostSuites instance;
  return instance;
}

void set_host(const OfxHost *host) {
  suites().host.store(host, std::memory_order_release);
}

template <typename Suite>
static const Suite *fetch(const OfxHost *host, const char *name, int version) {
  return static_cast<const Suite *>(host->fetchSuite(host->host, name, version));
}

OfxStatus fetch_suites() {
  const OfxHost *host = suites().host.load(std::memory_order_acquire);
  if (host == nullptr || host->fetchSuite == nullptr) return kOfxStatErrMissingHostFeature;
  HostSuites &s = suites();
  s.prop.store(fetch<OfxPropertySuiteV1>(host, kOfxPropertySuite, 1), std::memory_order_release);
  s.effect.store(fetch<OfxImageEffectSuiteV1>(host, kOfxImageEffectSuite, 1), std::memory_order_release);
  s.param.store(fetch<OfxParameterSuiteV1>(host, kOfxParameterSuite, 1), std::memory_order_release);
  s.message2.store(fetch<OfxMessageSuiteV2>(host, kOfxMessageSuite, 2), std::memory_order_release);
  s.message1.store(fetch<OfxMessageSuiteV1>(host, kOfxMessageSuite, 1), std::memory_order_release);
  if (s.prop.load() == nullptr || s.effect.load() == nullptr || s.param.load() == nullptr) {
    return kOfxStatErrMissingHostFeature;
  }
  return kOfxStatOK;
}

}  // namespace ee
