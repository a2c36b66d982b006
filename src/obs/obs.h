// The obs module's front door: the logger (obs/log.h) and the metrics registry (obs/metrics.h).
// See docs/design/observability.md for the metric names and where they are fed.
#pragma once

#include "obs/log.h"
#include "obs/metrics.h"
