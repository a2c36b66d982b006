// FormDecode: text encoded as HTML forms and S3 encode it (application/x-www-form-urlencoded):
// '+' is a space, "%XX" the byte of two hex digits (either case), every other byte itself.
// S3 writes keys this way in its event notifications (keys of `Records`), in its Inventory
// reports' CSV files and in Batch Operations manifests; one decoder serves all three readers
// (events/records.cc, inventory/csv_row.cc, lists/key_list.cc).
//
// nullopt when a '%' is not followed by two hex digits; nothing else is checked (the bytes
// need not be UTF-8: the caller decides what a key may hold). Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry {

std::optional<std::string> FormDecode(std::string_view encoded);

}  // namespace ferry
