// The property suite: typed values by name on the host's property sets.
#include "host.h"

#include <mutex>
#include <string>
#include <vector>

namespace testhost {

template <typename T>
OfxStatus set_value(OfxPropertySetHandle h, const char *name, int index, char type, const T &value,
                    std::vector<T> Property::*member) {
  if (h == nullptr) return kOfxStatErrBadHandle;
  PropertySet *set = P(h);
  std::lock_guard<std::mutex> lock(set->mutex);
  Property &p = set->values[name];
  if (p.type != type) {
    p = Property();
    p.type = type;
  }
  auto &v = p.*member;
  if (index < 0) return kOfxStatErrBadIndex;
  if (static_cast<size_t>(index) >= v.size()) v.resize(index + 1);
  v[index] = value;
  return kOfxStatOK;
}

template <typename T>
OfxStatus get_value(OfxPropertySetHandle h, const char *name, int index, char type, T *out,
                    std::vector<T> Property::*member) {
  if (h == nullptr) return kOfxStatErrBadHandle;
  PropertySet *set = P(h);
  std::lock_guard<std::mutex> lock(set->mutex);
  const Property *p = set->find(name);
  if (p == nullptr) return kOfxStatErrUnknown;
  if (p->type != type) return kOfxStatErrValue;
  const auto &v = p->*member;
  if (index < 0 || static_cast<size_t>(index) >= v.size()) return kOfxStatErrBadIndex;
  *out = v[index];
  return kOfxStatOK;
}

OfxStatus propSetPointer(OfxPropertySetHandle h, const char *n, int i, void *v) {
  return set_value<void *>(h, n, i, 'p', v, &Property::p);
}
OfxStatus propSetString(OfxPropertySetHandle h, const char *n, int i, const char *v) {
  return set_value<std::string>(h, n, i, 's', std::string(v ? v : ""), &Property::s);
}
OfxStatus propSetDouble(OfxPropertySetHandle h, const char *n, int i, double v) {
  return set_value<double>(h, n, i, 'd', v, &Property::d);
}
OfxStatus propSetInt(OfxPropertySetHandle h, const char *n, int i, int v) {
  return set_value<int>(h, n, i, 'i', v, &Property::i);
}
OfxStatus propSetPointerN(OfxPropertySetHandle h, const char *n, int c, void *const *v) {
  for (int i = 0; i < c; ++i) propSetPointer(h, n, i, v[i]);
  return kOfxStatOK;
}
OfxStatus propSetStringN(OfxPropertySetHandle h, const char *n, int c, const char *const *v) {
  for (int i = 0; i < c; ++i) propSetString(h, n, i, v[i]);
  return kOfxStatOK;
}
OfxStatus propSetDoubleN(OfxPropertySetHandle h, const char *n, int c, const double *v) {
  for (int i = 0; i < c; ++i) propSetDouble(h, n, i, v[i]);
  return kOfxStatOK;
}
OfxStatus propSetIntN(OfxPropertySetHandle h, const char *n, int c, const int *v) {
  for (int i = 0; i < c; ++i) propSetInt(h, n, i, v[i]);
  return kOfxStatOK;
}
OfxStatus propGetPointer(OfxPropertySetHandle h, const char *n, int i, void **v) {
  return get_value<void *>(h, n, i, 'p', v, &Property::p);
}
OfxStatus propGetString(OfxPropertySetHandle h, const char *n, int i, char **v) {
  if (h == nullptr) return kOfxStatErrBadHandle;
  PropertySet *set = P(h);
  std::lock_guard<std::mutex> lock(set->mutex);
  Property *p = set->values.count(n) ? &set->values[n] : nullptr;
  if (p == nullptr) return kOfxStatErrUnknown;
  if (p->type != 's') return kOfxStatErrValue;
  if (i < 0 || static_cast<size_t>(i) >= p->s.size()) return kOfxStatErrBadIndex;
  *v = const_cast<char *>(p->s[i].c_str());  // host-owned, valid while the set is unchanged
  return kOfxStatOK;
}
OfxStatus propGetDouble(OfxPropertySetHandle h, const char *n, int i, double *v) {
  return get_value<double>(h, n, i, 'd', v, &Property::d);
}
OfxStatus propGetInt(OfxPropertySetHandle h, const char *n, int i, int *v) {
  return get_value<int>(h, n, i, 'i', v, &Property::i);
}
OfxStatus propGetPointerN(OfxPropertySetHandle h, const char *n, int c, void **v) {
  for (int i = 0; i < c; ++i) {
    OfxStatus s = propGetPointer(h, n, i, v + i);
    if (s != kOfxStatOK) return s;
  }
  return kOfxStatOK;
}
OfxStatus propGetStringN(OfxPropertySetHandle h, const char *n, int c, char **v) {
  for (int i = 0; i < c; ++i) {
    OfxStatus s = propGetString(h, n, i, v + i);
    if (s != kOfxStatOK) return s;
  }
  return kOfxStatOK;
}
OfxStatus propGetDoubleN(OfxPropertySetHandle h, const char *n, int c, double *v) {
  for (int i = 0; i < c; ++i) {
    OfxStatus s = propGetDouble(h, n, i, v + i);
    if (s != kOfxStatOK) return s;
  }
  return kOfxStatOK;
}
OfxStatus propGetIntN(OfxPropertySetHandle h, const char *n, int c, int *v) {
  for (int i = 0; i < c; ++i) {
    OfxStatus s = propGetInt(h, n, i, v + i);
    if (s != kOfxStatOK) return s;
  }
  return kOfxStatOK;
}
OfxStatus propReset(OfxPropertySetHandle h, const char *n) {
  return kOfxStatOK;
}
OfxStatus propGetDimension(OfxPropertySetHandle h, const char *n, int *count) {
  if (h == nullptr) return kOfxStatErrBadHandle;
  PropertySet *set = P(h);
  std::lock_guard<std::mutex> lock(set->mutex);
  const Property *p = set->find(n);
  if (p == nullptr) return kOfxStatErrUnknown;
  *count = p->size();
  return kOfxStatOK;
}

const OfxPropertySuiteV1 g_property_suite = {
    propSetPointer,  propSetString,  propSetDouble,  propSetInt,    propSetPointerN, propSetStringN,
    propSetDoubleN,  propSetIntN,    propGetPointer, propGetString, propGetDouble,   propGetInt,
    propGetPointerN, propGetStringN, propGetDoubleN, propGetIntN,   propReset,       propGetDimension,
};

}  // namespace testhost
