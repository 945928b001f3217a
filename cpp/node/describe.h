// OfxActionDescribe and OfxImageEffectActionDescribeInContext: what the plugin is,
// which images it takes and its parameters. Both run often (MLT describes for every
// frame) and must stay cheap: no Python, no files.
#pragma once

#include "ofx_core.h"

namespace ee {

OfxStatus describe(OfxImageEffectHandle descriptor);
OfxStatus describe_in_context(OfxImageEffectHandle descriptor, OfxPropertySetHandle in_args);

}  // namespace ee
