// The render-time actions: Render itself, and what the node tells the host before it
// (regions of interest, clip preferences, identity).
#pragma once

#include "ofx_core.h"

namespace ee {

OfxStatus render(OfxImageEffectHandle effect, OfxPropertySetHandle in_args);
OfxStatus regions_of_interest(OfxImageEffectHandle effect, OfxPropertySetHandle in_args, OfxPropertySetHandle out_args);
OfxStatus clip_preferences(OfxImageEffectHandle effect, OfxPropertySetHandle out_args);
OfxStatus is_identity(OfxImageEffectHandle effect, OfxPropertySetHandle in_args, OfxPropertySetHandle out_args);

}  // namespace ee
