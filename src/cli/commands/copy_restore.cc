// ferry cp / sync: the flags of archived sources (--restore-archived DAYS, --restore-tier,
// --restore-poll, --restore-wait; docs/design/glacier.md), registered and checked here.
#include <string>

#include "cli/commands/copy_internal.h"
#include "plan/filter.h"

namespace ferry::cli {
namespace {

// A duration flag as ParseAge reads it ("90s", "5m", "2h"), within [min, max].
Status ApplyDuration(const std::string& text, const char* flag, std::chrono::seconds min,
                     std::chrono::seconds max, std::chrono::milliseconds& out) {
  auto v = plan::ParseAge(text);
  if (!v.ok()) return v.status().WithContext(flag);
  if (*v < min || *v > max) {
    return Status::InvalidArgument(std::string(flag) + ": " + text + " is out of range (" +
                                   std::to_string(min.count()) + "s.." +
                                   std::to_string(max.count() / 86400) + "d)");
  }
  out = *v;
  return Status::Ok();
}

}  // namespace

void AddRestoreOptions(CLI::App* cmd, CopyArgs& args) {
  cmd->add_option("--restore-archived", args.restore_archived,
                  "restore archived source objects (Glacier, Deep Archive) for DAYS days, wait "
                  "for them and copy them (default: reported, not copied)");
  cmd->add_option("--restore-tier", args.restore_tier,
                  "with --restore-archived: Standard (default), Bulk or Expedited");
  cmd->add_option("--restore-poll", args.restore_poll,
                  "with --restore-archived: how often a restore's state is asked (default 60s)");
  cmd->add_option("--restore-wait", args.restore_wait,
                  "with --restore-archived: the longest wait for restores; the objects still "
                  "not restored are then reported, not copied (default 48h)");
}

Status ApplyRestoreFlags(const CopyArgs& a, transfer::RestoreOptions& out) {
  const bool any_other = a.restore_tier != "Standard" || a.restore_poll != "60s" ||
                         a.restore_wait != "48h";
  if (a.restore_archived.empty()) {
    if (any_other) {
      return Status::InvalidArgument(
          "--restore-tier, --restore-poll and --restore-wait need --restore-archived DAYS");
    }
    return Status::Ok();
  }
  int days = 0;
  bool digits = a.restore_archived.size() <= 5;
  for (char c : a.restore_archived) digits = digits && c >= '0' && c <= '9';
  if (digits) days = std::stoi(a.restore_archived);
  if (!digits || days < 1 || days > 30000) {
    return Status::InvalidArgument("--restore-archived: expected a number of days, 1..30000, not '" +
                                   a.restore_archived + "'");
  }
  if (a.restore_tier != "Standard" && a.restore_tier != "Bulk" &&
      a.restore_tier != "Expedited") {
    return Status::InvalidArgument("--restore-tier: Standard, Bulk or Expedited, not '" +
                                   a.restore_tier + "'");
  }
  constexpr std::chrono::seconds kYear{365 * 86400};
  FERRY_RETURN_IF_ERROR(ApplyDuration(a.restore_poll, "--restore-poll", std::chrono::seconds(1),
                                      std::chrono::seconds(86400), out.poll));
  FERRY_RETURN_IF_ERROR(ApplyDuration(a.restore_wait, "--restore-wait", std::chrono::seconds(0),
                                      kYear, out.wait));
  out.days = days;
  out.tier = a.restore_tier;
  return Status::Ok();
}

}  // namespace ferry::cli
