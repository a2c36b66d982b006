#include "replicate/rules.h"

#include <gtest/gtest.h>

namespace ferry::replicate {
namespace {

Rule MakeRule(std::string id, int priority, std::string prefix,
              std::vector<std::string> destinations) {
  Rule r;
  r.id = std::move(id);
  r.priority = priority;
  r.prefix = std::move(prefix);
  for (std::string& d : destinations) r.destinations.push_back({std::move(d), "", {}});
  return r;
}

TEST(ReplicationRulesTest, ValidSetPasses) {
  RuleSet set{{MakeRule("a", 1, "docs/", {"rb:b"}), MakeRule("b", 1, "img/", {"rb:b"})}};
  EXPECT_TRUE(Validate(set).ok());
}

TEST(ReplicationRulesTest, RefusalsNameRuleAndField) {
  struct Case {
    RuleSet set;
    std::string message;
  };
  Rule tagged = MakeRule("t", 1, "", {"rb:b"});
  tagged.tags = {{"k", "v"}};
  tagged.delete_markers = true;
  Rule no_dest = MakeRule("nd", 1, "", {});
  Rule twice = MakeRule("tw", 1, "", {"rb:b", "rb:b"});
  Rule negative = MakeRule("neg", -1, "", {"rb:b"});
  const Case cases[] = {
      {RuleSet{{tagged}},
       "replication rule 't': 'delete_markers' cannot be replicated with a tag filter"},
      {RuleSet{{no_dest}}, "replication rule 'nd': 'destinations' must name"},
      {RuleSet{{twice}}, "replication rule 'tw': 'destinations' names rb:b twice"},
      {RuleSet{{negative}}, "replication rule 'neg': 'priority' must be 0 or more"},
      {RuleSet{{MakeRule("", 1, "", {"rb:b"})}}, "replication rule #1: 'id' is missing"},
      {RuleSet{{MakeRule("x", 1, "a/", {"rb:b"}), MakeRule("x", 2, "b/", {"rb:b"})}},
       "replication rule 'x': 'id' is used by two rules"},
      {RuleSet{{MakeRule("wide", 3, "", {"rb:b"}), MakeRule("narrow", 3, "logs/", {"rb:c"})}},
       "replication rule 'narrow': 'priority' 3 equals that of rule 'wide', whose filter "
       "overlaps"},
  };
  for (const Case& c : cases) {
    Status s = Validate(c.set);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.message;
    EXPECT_EQ(s.message().substr(0, c.message.size()), c.message);
  }
}

TEST(ReplicationRulesTest, EqualPrioritiesWithDisjointTagValuesDoNotOverlap) {
  Rule a = MakeRule("a", 1, "", {"rb:b"});
  a.tags = {{"team", "x"}};
  Rule b = MakeRule("b", 1, "", {"rb:b"});
  b.tags = {{"team", "y"}};
  EXPECT_FALSE(FiltersOverlap(a, b));
  EXPECT_TRUE(Validate(RuleSet{{a, b}}).ok());
  b.tags = {{"other", "y"}};
  EXPECT_TRUE(FiltersOverlap(a, b));
  EXPECT_FALSE(Validate(RuleSet{{a, b}}).ok());
}

TEST(ReplicationRulesTest, HighestPriorityWinsPerDestination) {
  Rule wide = MakeRule("wide", 1, "", {"rb:b", "rc:c"});
  Rule logs = MakeRule("logs", 5, "logs/", {"rb:b"});
  Rule off = MakeRule("off", 9, "", {"rb:b"});
  off.enabled = false;
  RuleSet set{{wide, logs, off}};
  ASSERT_TRUE(Validate(set).ok());
  std::vector<Winner> w = WinningRules(set, "logs/1", nullptr);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].rule->id, "logs");
  EXPECT_EQ(w[0].destination->location, "rb:b");
  EXPECT_EQ(w[1].rule->id, "wide");
  EXPECT_EQ(w[1].destination->location, "rc:c");
  w = WinningRules(set, "docs/1", nullptr);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].rule->id, "wide");
}

TEST(ReplicationRulesTest, TagFilterNeedsEveryTag) {
  Rule r = MakeRule("t", 1, "p/", {"rb:b"});
  r.tags = {{"a", "1"}, {"b", "2"}};
  RuleSet set{{r}};
  EXPECT_TRUE(NeedsTags(set, "p/x"));
  EXPECT_FALSE(NeedsTags(set, "q/x"));
  storage::Tags both = {{"b", "2"}, {"a", "1"}, {"c", "3"}};
  storage::Tags one = {{"a", "1"}};
  EXPECT_EQ(WinningRules(set, "p/x", &both).size(), 1u);
  EXPECT_TRUE(WinningRules(set, "p/x", &one).empty());
  EXPECT_TRUE(WinningRules(set, "p/x", nullptr).empty());
  EXPECT_TRUE(WinningRules(set, "q/x", &both).empty());
}

constexpr const char* kS3Json = R"({
    "ReplicationConfiguration": {
        "Role": "arn:aws:iam::123456789012:role/replication",
        "Rules": [
            {
                "ID": "docs",
                "Priority": 2,
                "Filter": {"Prefix": "docs/"},
                "Status": "Enabled",
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "ExistingObjectReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": "arn:aws:s3:::west-bucket", "StorageClass": "STANDARD_IA"}
            },
            {
                "ID": "tagged",
                "Priority": 1,
                "Filter": {"And": {"Prefix": "img/", "Tags": [{"Key": "k", "Value": "v"}]}},
                "Status": "Disabled",
                "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Enabled"}},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::west-bucket"}
            }
        ]
    }
})";

TEST(ReplicationRulesTest, ReadsS3ReplicationConfiguration) {
  Result<RuleSet> set =
      ParseS3ReplicationJson(kS3Json, "r.json", {{"arn:aws:s3:::west-bucket", "rb:west/"}});
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->rules.size(), 2u);
  const Rule& a = set->rules[0];
  EXPECT_EQ(a.id, "docs");
  EXPECT_EQ(a.priority, 2);
  EXPECT_EQ(a.prefix, "docs/");
  EXPECT_TRUE(a.enabled);
  EXPECT_TRUE(a.delete_markers);
  EXPECT_TRUE(a.existing_objects);
  ASSERT_EQ(a.destinations.size(), 1u);
  EXPECT_EQ(a.destinations[0].location, "rb:west/");
  EXPECT_EQ(a.destinations[0].storage_class, "STANDARD_IA");
  const Rule& b = set->rules[1];
  EXPECT_FALSE(b.enabled);
  EXPECT_FALSE(b.existing_objects);  // S3's default
  EXPECT_TRUE(b.replica_modifications);
  EXPECT_EQ(b.prefix, "img/");
  ASSERT_EQ(b.tags.size(), 1u);
  EXPECT_EQ(b.tags[0], (std::pair<std::string, std::string>{"k", "v"}));
  EXPECT_TRUE(Validate(*set).ok());
}

TEST(ReplicationRulesTest, S3JsonRefusals) {
  auto parse = [](std::string_view text) {
    return ParseS3ReplicationJson(text, "r.json", {{"arn:aws:s3:::known", "rb:known"}}).status();
  };
  Status s = parse(R"({"Rules": [{"ID": "x", "Status": "Enabled",
                     "Destination": {"Bucket": "arn:aws:s3:::other"}}]})");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "r.json: replication rule 'x': 'Destination.Bucket' arn:aws:s3:::other is not mapped "
            "to a location in [replication.buckets] of the config");
  s = parse(R"({"Rules": [{"ID": "x", "Status": "On",
               "Destination": {"Bucket": "arn:aws:s3:::known"}}]})");
  EXPECT_EQ(s.message(), "r.json: replication rule 'x': 'Status' must be \"Enabled\" or "
                         "\"Disabled\"");
  s = parse(R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Size": 1},
               "Destination": {"Bucket": "arn:aws:s3:::known"}}]})");
  EXPECT_EQ(s.message(), "r.json: replication rule 'x': unknown field 'Filter.Size'");
  EXPECT_EQ(parse("{nope").message(), "r.json: not valid JSON");
}

}  // namespace
}  // namespace ferry::replicate
