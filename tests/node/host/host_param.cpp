// The parameter suite: the plugin's parameters, with the scene's values and keyframes.
#include "host.h"

#include <cstdarg>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace testhost {

// Linear between keys, held before the first and after the last: the same arithmetic
// as the command line's keyframes (emotionedit/keyframes.py), so values match exactly.
double value_at(const Param &p, double time, bool stepped) {
  const auto &k = p.keys;
  if (k.empty()) return 0.0;
  if (time <= k.front().first) return k.front().second;
  if (time >= k.back().first) return k.back().second;
  size_t i = 0;
  while (i + 1 < k.size() && k[i + 1].first <= time) ++i;
  if (stepped) return k[i].second;
  const double t = (time - k[i].first) / (k[i + 1].first - k[i].first);
  return k[i].second + t * (k[i + 1].second - k[i].second);
}

OfxStatus get_param(OfxParamHandle handle, double time, va_list ap) {
  if (handle == nullptr) return kOfxStatErrBadHandle;
  Param &p = *reinterpret_cast<Param *>(handle);
  if (p.type == kOfxParamTypeDouble) {
    *va_arg(ap, double *) = value_at(p, time, false);
  } else if (p.type == kOfxParamTypeInteger || p.type == kOfxParamTypeBoolean || p.type == kOfxParamTypeChoice) {
    *va_arg(ap, int *) = static_cast<int>(value_at(p, time, true));
  } else if (p.type == kOfxParamTypeString) {
    *va_arg(ap, char **) = const_cast<char *>(p.text.c_str());
  } else {
    return kOfxStatErrUnsupported;
  }
  return kOfxStatOK;
}

OfxStatus paramDefine(OfxParamSetHandle set, const char *type, const char *name, OfxPropertySetHandle *props) {
  auto *s = reinterpret_cast<ParamSet *>(set);
  if (s->find(name) != nullptr) return kOfxStatErrExists;
  auto p = std::make_unique<Param>();
  p->type = type;
  p->name = name;
  p->props.kind = std::string("param ") + name;
  p->props.set_string(kOfxParamPropType, {type});
  p->props.set_string(kOfxPropName, {name});
  if (props != nullptr) *props = H(&p->props);
  s->params.push_back(std::move(p));
  return kOfxStatOK;
}
OfxStatus paramGetHandle(OfxParamSetHandle set, const char *name, OfxParamHandle *param, OfxPropertySetHandle *props) {
  Param *p = reinterpret_cast<ParamSet *>(set)->find(name);
  if (p == nullptr) return kOfxStatErrUnknown;
  *param = reinterpret_cast<OfxParamHandle>(p);
  if (props != nullptr) *props = H(&p->props);
  return kOfxStatOK;
}
OfxStatus paramSetGetPropertySet(OfxParamSetHandle set, OfxPropertySetHandle *props) {
  *props = H(&reinterpret_cast<ParamSet *>(set)->props);
  return kOfxStatOK;
}
OfxStatus paramGetPropertySet(OfxParamHandle param, OfxPropertySetHandle *props) {
  *props = H(&reinterpret_cast<Param *>(param)->props);
  return kOfxStatOK;
}
OfxStatus paramGetValue(OfxParamHandle h, ...) {
  va_list ap;
  va_start(ap, h);
  // The host's current time, deliberately not the frame being rendered.
  OfxStatus s = get_param(h, g_scene.timeline, ap);
  va_end(ap);
  return s;
}
OfxStatus paramGetValueAtTime(OfxParamHandle h, OfxTime time, ...) {
  va_list ap;
  va_start(ap, time);
  OfxStatus s = get_param(h, time, ap);
  va_end(ap);
  return s;
}
OfxStatus paramUnsupportedT(OfxParamHandle, OfxTime, ...) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramGetIntegral(OfxParamHandle, OfxTime, OfxTime, ...) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramSetValue(OfxParamHandle, ...) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramGetNumKeys(OfxParamHandle h, unsigned *n) {
  *n = static_cast<unsigned>(reinterpret_cast<Param *>(h)->keys.size());
  return kOfxStatOK;
}
OfxStatus paramGetKeyTime(OfxParamHandle h, unsigned nth, OfxTime *t) {
  auto &k = reinterpret_cast<Param *>(h)->keys;
  if (nth >= k.size()) return kOfxStatErrBadIndex;
  *t = k[nth].first;
  return kOfxStatOK;
}
OfxStatus paramGetKeyIndex(OfxParamHandle, OfxTime, int, int *) {
  return kOfxStatFailed;
}
OfxStatus paramDeleteKey(OfxParamHandle, OfxTime) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramDeleteAllKeys(OfxParamHandle) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramCopy(OfxParamHandle, OfxParamHandle, OfxTime, const OfxRangeD *) {
  return kOfxStatErrUnsupported;
}
OfxStatus paramEditBegin(OfxParamSetHandle, const char *) {
  return kOfxStatOK;
}
OfxStatus paramEditEnd(OfxParamSetHandle) {
  return kOfxStatOK;
}

const OfxParameterSuiteV1 g_parameter_suite = {
    paramDefine,         paramGetHandle,    paramSetGetPropertySet, paramGetPropertySet, paramGetValue,
    paramGetValueAtTime, paramUnsupportedT, paramGetIntegral,       paramSetValue,       paramUnsupportedT,
    paramGetNumKeys,     paramGetKeyTime,   paramGetKeyIndex,       paramDeleteKey,      paramDeleteAllKeys,
    paramCopy,           paramEditBegin,    paramEditEnd,
};

// The scene's value for an instance's parameter: a constant, MLT-style keys, or a choice label.
void apply_scene_value(Param &p, const std::string &value) {
  if (p.type == kOfxParamTypeString) {
    p.text = value;
    return;
  }
  p.keys.clear();
  if (p.type == kOfxParamTypeChoice) {
    const Property *options = p.props.find(kOfxParamPropChoiceOption);
    for (int i = 0; options != nullptr && i < options->size(); ++i) {
      if (options->s[i] == value) {
        p.keys.push_back({0.0, static_cast<double>(i)});
        return;
      }
    }
  }
  std::stringstream keys(value);
  for (std::string item; std::getline(keys, item, ';');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      p.keys.push_back({0.0, std::stod(item)});
    } else {
      p.keys.push_back({std::stod(item.substr(0, eq)), std::stod(item.substr(eq + 1))});
    }
  }
}

void apply_defaults(Param &p) {
  const Property *def = p.props.find(kOfxParamPropDefault);
  if (def == nullptr) return;
  if (def->type == 's') p.text = def->s.empty() ? "" : def->s[0];
  if (def->type == 'd' && !def->d.empty()) p.keys = {{0.0, def->d[0]}};
  if (def->type == 'i' && !def->i.empty()) p.keys = {{0.0, static_cast<double>(def->i[0])}};
}

}  // namespace testhost
