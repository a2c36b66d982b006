// Test-only helpers of the records tests: a table of event names and the kinds they must give,
// checked through whole bodies.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "events/events.h"

namespace ferry::events::testing {

struct NameCase {
  std::string_view name;
  EventKind kind;
};

// A one-record body from `event_source` (e.g. "ceph:s3") with event name `name`, key "k".
inline std::string MinimalRecord(std::string_view event_source, std::string_view name) {
  return R"({"Records":[{"eventVersion":"2.3","eventSource":")" + std::string(event_source) +
         R"(","eventName":")" + std::string(name) +
         R"(","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"12"}}}]})";
}

// Parses body(name) for each case and expects one event of the case's kind.
inline void ExpectKinds(const std::function<std::string(std::string_view)>& body,
                        std::initializer_list<NameCase> cases) {
  for (const NameCase& c : cases) {
    const auto parsed = ParseBody(body(c.name));
    ASSERT_TRUE(parsed.ok()) << c.name << ": " << parsed.status().ToString();
    ASSERT_EQ(parsed->events.size(), 1u) << c.name;
    EXPECT_EQ(parsed->events[0].kind, c.kind) << c.name;
    EXPECT_EQ(parsed->events[0].name, c.name);
  }
}

}  // namespace ferry::events::testing
