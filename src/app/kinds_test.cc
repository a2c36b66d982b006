// The registry of every kind (kinds.h): jobs' own, transport's and replication's, one run hook.
#include "app/kinds.h"

#include <gtest/gtest.h>

namespace ferry::app {
namespace {

TEST(KindsTest, EveryKindOfThisFerryAndTheHookOfCompressedRuns) {
  const jobs::KindRegistry& k = Kinds();
  EXPECT_EQ(k.Names(),
            (std::vector<std::string>{"cache-warm", "delete", "delete-scope", "list-scan",
                                      "move-sources", "pack", "part", "replicate-deletes",
                                      "replicate-event", "replicate-keys", "replicate-pack",
                                      "replicate-scan", "report-part", "report-summary",
                                      "restore", "scan",
                                      "transfer", "unpack", "verify-list", "verify-range", "verify-result",
                                      "verify-summary"}));
  EXPECT_EQ(k.PhaseOf("delete"), 1);
  EXPECT_EQ(k.PhaseOf("replicate-deletes"), 1);  // the sync's delete phase: the guard's
  EXPECT_EQ(k.PhaseOf("verify-summary"), 10);  // after every record (phase 9)
  EXPECT_EQ(k.PhaseOf("report-summary"), 10);
  for (const char* kind : {"scan", "transfer", "pack", "unpack", "replicate-scan",
                           "replicate-keys", "replicate-pack", "restore", "cache-warm",
                           "verify-range", "verify-list"}) {
    EXPECT_EQ(k.PhaseOf(kind), 0) << kind;
  }
  EXPECT_FALSE(k.CountsProgress("pack"));  // its unpack counts the objects
  EXPECT_TRUE(k.CountsProgress("unpack"));
  EXPECT_TRUE(k.CountsProgress("restore"));
  EXPECT_EQ(k.run_hooks().size(), 1u);
  EXPECT_EQ(&Kinds(), &k) << "one registry per process";
}

TEST(KindsTest, AReplicationPassServesItsKindsAndItsUnpacks) {
  const jobs::KindRegistry k = ReplicationKinds(nullptr);
  EXPECT_EQ(k.Names(), (std::vector<std::string>{"delete-scope", "replicate-deletes",
                                                 "replicate-event", "replicate-keys",
                                                 "replicate-pack", "replicate-scan", "unpack"}));
  EXPECT_TRUE(k.run_hooks().empty());
}

}  // namespace
}  // namespace ferry::app
