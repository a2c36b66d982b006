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
  for (std::string& d : destinations) r.destinations.push_back({std::move(d), "", {}, ""});
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
  Status s = parse(R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
                     "Destination": {"Bucket": "arn:aws:s3:::other"}}]})");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "r.json: replication rule 'x': 'Destination.Bucket' arn:aws:s3:::other is not mapped "
            "to a location in [replication.buckets] of the config");
  s = parse(R"({"Rules": [{"ID": "x", "Status": "On", "Filter": {},
               "Destination": {"Bucket": "arn:aws:s3:::known"}}]})");
  EXPECT_EQ(s.message(), "r.json: replication rule 'x': 'Status' must be \"Enabled\" or "
                         "\"Disabled\"");
  s = parse(R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Size": 1},
               "Destination": {"Bucket": "arn:aws:s3:::known"}}]})");
  EXPECT_EQ(s.message(), "r.json: replication rule 'x': unknown field 'Filter.Size'");
  EXPECT_EQ(parse("{nope").message(), "r.json: not valid JSON");
}

// Nothing in the JSON is ignored: a field ferry does not know, or one S3 defines that ferry does
// not carry out yet, is refused with its name; a priority out of range is refused, not wrapped.
// Before, all were silently ignored, and 4294967297 became priority 1.
TEST(ReplicationRulesTest, S3JsonReplicationTimeAndMetricsSetTheThreshold) {
  auto parse = [](std::string_view dest) {
    const std::string text = R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
        "Destination": {"Bucket": "arn:aws:s3:::known")" +
                             std::string(dest.empty() ? "" : ", ") + std::string(dest) + "}}]}";
    return ParseS3ReplicationJson(text, "r.json", {{"arn:aws:s3:::known", "rb:known"}});
  };
  auto threshold = [&](std::string_view dest) {
    Result<RuleSet> r = parse(dest);
    EXPECT_TRUE(r.ok()) << dest << ": " << r.status().message();
    return r.ok() ? r->rules[0].replication_time : std::chrono::seconds(-1);
  };
  using std::chrono::minutes;
  using std::chrono::seconds;
  EXPECT_EQ(threshold(""), seconds(0));
  // S3 RTC: both enabled, 15 minutes.
  EXPECT_EQ(threshold(R"("ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                         "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}})"),
            minutes(15));
  // Either alone, any whole number of minutes above 0; Metrics without a threshold is metrics
  // only (ferry publishes them always).
  EXPECT_EQ(threshold(R"("ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 5}})"),
            minutes(5));
  EXPECT_EQ(threshold(R"("Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 60}})"),
            minutes(60));
  EXPECT_EQ(threshold(R"("Metrics": {"Status": "Enabled"})"), seconds(0));
  EXPECT_EQ(threshold(R"("ReplicationTime": {"Status": "Disabled", "Time": {"Minutes": 15}},
                         "Metrics": {"Status": "Disabled"})"),
            seconds(0));
  // Malformed: one line naming the field, even when disabled.
  const std::pair<std::string, std::string> refused[] = {
      {R"("ReplicationTime": {"Status": "Enabled"})",
       "'Destination.ReplicationTime.Time' is missing"},
      {R"("ReplicationTime": {"Status": "On", "Time": {"Minutes": 15}})",
       "'Destination.ReplicationTime.Status' must be \"Enabled\" or \"Disabled\""},
      {R"("ReplicationTime": {"Time": {"Minutes": 15}})",
       "'Destination.ReplicationTime.Status' must be \"Enabled\" or \"Disabled\""},
      {R"("ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 0}})",
       "'Destination.ReplicationTime.Time.Minutes' must be a whole number of minutes from 1 to "
       "1000000"},
      {R"("ReplicationTime": {"Status": "Disabled", "Time": {"Minutes": "15"}})",
       "'Destination.ReplicationTime.Time.Minutes' must be a whole number of minutes from 1 to "
       "1000000"},
      {R"("ReplicationTime": {"Status": "Enabled", "Time": {"Seconds": 15}})",
       "unknown field 'Destination.ReplicationTime.Time.Seconds'"},
      {R"("ReplicationTime": {"Status": "Enabled", "Time": 15})",
       "'Destination.ReplicationTime.Time' must be an object with Minutes"},
      {R"("ReplicationTime": "Enabled")",
       "'Destination.ReplicationTime' must be an object with Status"},
      {R"("Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": -15}})",
       "'Destination.Metrics.EventThreshold.Minutes' must be a whole number of minutes from 1 "
       "to 1000000"},
      {R"("Metrics": {"Status": "Enabled", "EventThreshold": {}})",
       "'Destination.Metrics.EventThreshold.Minutes' is missing"},
      {R"("Metrics": {"Status": "Enabled", "Threshold": {"Minutes": 15}})",
       "unknown field 'Destination.Metrics.Threshold'"},
      {R"("ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
          "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 30}})",
       "'Destination.Metrics.EventThreshold.Minutes' (30) differs from "
       "'Destination.ReplicationTime.Time.Minutes' (15): a rule has one threshold"},
  };
  for (const auto& [dest, why] : refused) {
    Status s = parse(dest).status();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << dest;
    EXPECT_EQ(s.message(), "r.json: replication rule 'x': " + why) << dest;
  }
}

TEST(ReplicationRulesTest, ValidateRefusesAReplicationTimeOutOfRange) {
  RuleSet rules;
  Rule r;
  r.id = "a";
  r.destinations.push_back({"rb:x", "", {}, ""});
  r.replication_time = std::chrono::seconds(-1);
  rules.rules.push_back(r);
  EXPECT_EQ(Validate(rules).message(),
            "replication rule 'a': 'replication_time' must be above 0 and at most 1000000 "
            "minutes");
  rules.rules[0].replication_time = kMaxReplicationTime + std::chrono::seconds(1);
  EXPECT_FALSE(Validate(rules).ok());
  rules.rules[0].replication_time = std::chrono::minutes(15);
  EXPECT_TRUE(Validate(rules).ok());
}

TEST(ReplicationRulesTest, S3JsonFieldsAreHonouredOrRefused) {
  auto parse = [](std::string_view rule) {
    const std::string text = R"({"Role": "arn:aws:iam::1:role/r", "Rules": [{"ID": "x", )" +
                             std::string(rule) +
                             R"(, "Destination": {"Bucket": "arn:aws:s3:::known"}}]})";
    return ParseS3ReplicationJson(text, "r.json", {{"arn:aws:s3:::known", "rb:known"}});
  };
  auto message = [&](std::string_view rule) { return parse(rule).status().message(); };
  EXPECT_EQ(message(R"("Status": "Enabled", "Filter": {}, "Colour": "red")"),
            "r.json: replication rule 'x': unknown field 'Colour'");
  EXPECT_EQ(message(R"("Status": "Enabled", "Filter": {"And": {"Prefix": "a", "Size": 2}})"),
            "r.json: replication rule 'x': unknown field 'Filter.And.Size'");
  EXPECT_EQ(message(R"("Status": "Enabled", "Filter": {}, "Priority": 4294967297)"),
            "r.json: replication rule 'x': 'Priority' must be a whole number from 0 to "
            "2147483647");
  EXPECT_EQ(message(R"("Status": "Enabled", "Filter": {}, "Priority": -1)"),
            "r.json: replication rule 'x': 'Priority' must be a whole number from 0 to "
            "2147483647");
  // SSE-KMS objects: selected by the criterion, re-encrypted with the replica key.
  Result<RuleSet> kms = parse(R"("Status": "Enabled", "Filter": {}, "SourceSelectionCriteria":
                                 {"SseKmsEncryptedObjects": {"Status": "Enabled"}})");
  ASSERT_TRUE(kms.ok()) << kms.status().message();
  EXPECT_TRUE(kms->rules[0].sse_kms_objects);
  Result<RuleSet> kms_off = parse(R"("Status": "Enabled", "Filter": {}, "SourceSelectionCriteria":
                                     {"SseKmsEncryptedObjects": {"Status": "Disabled"}})");
  ASSERT_TRUE(kms_off.ok());
  EXPECT_FALSE(kms_off->rules[0].sse_kms_objects);
  EXPECT_FALSE(parse(R"("Status": "Enabled", "Filter": {})")->rules[0].sse_kms_objects);
  EXPECT_EQ(message(R"("Status": "Enabled", "Filter": {}, "SourceSelectionCriteria":
                       {"SseKmsEncryptedObjects": {"Status": "On"}})"),
            "r.json: replication rule 'x': 'SseKmsEncryptedObjects.Status' must be \"Enabled\" "
            "or \"Disabled\"");
  auto with_destination = [](std::string_view dest) {
    const std::string text = R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
        "Destination": {"Bucket": "arn:aws:s3:::known", )" + std::string(dest) + "}}]}";
    return ParseS3ReplicationJson(text, "r.json", {{"arn:aws:s3:::known", "rb:known"}});
  };
  Result<RuleSet> replica_key =
      with_destination(R"("EncryptionConfiguration": {"ReplicaKmsKeyID": "testkey-2"})");
  ASSERT_TRUE(replica_key.ok()) << replica_key.status().message();
  EXPECT_EQ(replica_key->rules[0].destinations[0].replica_kms_key_id, "testkey-2");
  EXPECT_EQ(with_destination(R"("EncryptionConfiguration": {})").status().message(),
            "r.json: replication rule 'x': 'EncryptionConfiguration.ReplicaKmsKeyID' is missing");
  EXPECT_FALSE(with_destination(R"("EncryptionConfiguration": {"KeyId": "k"})").ok());
  // AccessControlTranslation: the replicas go to Destination.Account; refused without it, with
  // another Owner, and Account alone (it would change nothing).
  auto dest = [](const std::string& d) {
    const std::string text = R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
        "Destination": {"Bucket": "arn:aws:s3:::known", )" + d + "}}]}";
    return ParseS3ReplicationJson(text, "r.json", {{"arn:aws:s3:::known", "rb:known"}});
  };
  Result<RuleSet> owner =
      dest(R"("Account": "acct-b", "AccessControlTranslation": {"Owner": "Destination"})");
  ASSERT_TRUE(owner.ok()) << owner.status().message();
  EXPECT_EQ(owner->rules[0].destinations[0].owner_account, "acct-b");
  EXPECT_EQ(dest(R"("AccessControlTranslation": {"Owner": "Destination"})").status().message(),
            "r.json: replication rule 'x': 'AccessControlTranslation' needs "
            "'Destination.Account' (the account the replicas go to)");
  EXPECT_EQ(dest(R"("Account": "a", "AccessControlTranslation": {"Owner": "Source"})")
                .status()
                .message(),
            "r.json: replication rule 'x': 'AccessControlTranslation.Owner' must be "
            "\"Destination\"");
  EXPECT_EQ(dest(R"("Account": "a", "AccessControlTranslation": {"Owner": "Destination",
                   "X": 1})")
                .status()
                .message(),
            "r.json: replication rule 'x': unknown field 'Destination.AccessControlTranslation.X'");
  EXPECT_NE(dest(R"("Account": "1")").status().message().find("would change nothing"),
            std::string::npos);
  const std::string metrics_off = R"({"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {},
      "Destination": {"Bucket": "arn:aws:s3:::known", "Metrics": {"Status": "Disabled"}}}]})";
  EXPECT_TRUE(
      ParseS3ReplicationJson(metrics_off, "r.json", {{"arn:aws:s3:::known", "rb:known"}}).ok());
  EXPECT_EQ(
      ParseS3ReplicationJson(R"({"Rules": [], "Rulez": 1})", "r.json", {}).status().message(),
      "r.json: unknown field 'Rulez'");
  // The older rule shape: a rule-level Prefix replicates delete markers, as S3 does.
  Result<RuleSet> v1 = parse(R"("Status": "Enabled", "Prefix": "logs/")");
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_TRUE(v1->rules[0].delete_markers);
  EXPECT_EQ(v1->rules[0].prefix, "logs/");
  EXPECT_EQ(message(R"("Status": "Enabled", "Prefix": "a", "Filter": {})"),
            "r.json: replication rule 'x': 'Prefix' and 'Filter' together (use one)");
  EXPECT_NE(message(R"("Status": "Enabled", "Prefix": "a",
                       "DeleteMarkerReplication": {"Status": "Disabled"})")
                .find("'DeleteMarkerReplication' needs a 'Filter'"),
            std::string::npos);
  EXPECT_EQ(message(R"("Status": "Enabled")"),
            "r.json: replication rule 'x': 'Filter' (or the older rule-level 'Prefix') is "
            "missing");
  // A V2 rule without DeleteMarkerReplication replicates none.
  Result<RuleSet> v2 = parse(R"("Status": "Enabled", "Filter": {"Prefix": "logs/"})");
  ASSERT_TRUE(v2.ok());
  EXPECT_FALSE(v2->rules[0].delete_markers);
}

}  // namespace
}  // namespace ferry::replicate
