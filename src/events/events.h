// The events module's front door: normalized bucket notifications (events/event.h), the
// parsers of raw bodies (events/parse.h), SNS envelopes and signatures (events/sns.h),
// duplicates and order (events/order.h), refusal reasons (events/errors.h).
// See docs/design/events.md.
#pragma once

#include "events/errors.h"
#include "events/event.h"
#include "events/order.h"
#include "events/parse.h"
#include "events/sns.h"
