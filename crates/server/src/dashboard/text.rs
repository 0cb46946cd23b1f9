//! Every text of the dashboard's pages, in Vietnamese (the default) and
//! English, in one place, as the domain's labels are ([`Label`]). A page
//! shows `text::NAME.get(lang)`; [`catalog`] lists them all, so the label
//! tests can check every one.

use super::PageCode;
use sotay_domain::labels::Label;

pub const YOUR_PASSWORD_WAS_SET: Label = Label::new(
    "Mật khẩu của bạn do người khác đặt. Hãy chọn mật khẩu của riêng bạn trước khi tiếp tục.",
    "Your password was set by someone else. Choose your own before you go on.",
);
pub const CURRENT_PASSWORD: Label = Label::new("Mật khẩu hiện tại", "Current password");
pub const NEW_PASSWORD: Label = Label::new("Mật khẩu mới", "New password");
pub const NEW_PASSWORD_AGAIN: Label = Label::new("Nhập lại mật khẩu mới", "New password again");
pub const CHANGE_PASSWORD: Label = Label::new("Đổi mật khẩu", "Change password");
pub const CHANGING_YOUR_PASSWORD_ENDS: Label = Label::new(
    "Đổi mật khẩu kết thúc mọi phiên đăng nhập khác của bạn.",
    "Changing your password ends every other session of yours.",
);
pub const ACCOUNT: Label = Label::new("Tài khoản", "Account");
pub const TWO_NEW_PASSWORDS_DIFFER: Label = Label::new(
    "Hai lần nhập mật khẩu mới không khớp.",
    "The two new passwords differ.",
);
pub const PASSWORD_CHANGED: Label = Label::new("Đã đổi mật khẩu.", "Password changed.");
pub const CURRENT_PASSWORD_IS_WRONG: Label = Label::new(
    "Mật khẩu hiện tại không đúng.",
    "The current password is wrong.",
);
pub const NEW_PASSWORD_MUST_DIFFER: Label = Label::new(
    "Mật khẩu mới phải khác mật khẩu hiện tại.",
    "The new password must differ from the current one.",
);
pub const NEW_PASSWORD_NEEDS_AT: Label = Label::new(
    "Mật khẩu mới cần ít nhất 10 ký tự.",
    "The new password needs at least 10 characters.",
);
pub const ENROLL_NEW_PHONE: Label = Label::new("Đăng ký điện thoại mới", "Enroll a new phone");
pub const GROUP: Label = Label::new("Tổ", "Group");
pub const VALID_FOR: Label = Label::new("Hiệu lực", "Valid for");
pub const VALID_ONE_DAY: Label = Label::new("1 ngày", "1 day");
pub const VALID_THREE_DAYS: Label = Label::new("3 ngày", "3 days");
pub const VALID_SEVEN_DAYS: Label = Label::new("7 ngày", "7 days");
pub const MAKE_QR_CODE: Label = Label::new("Tạo mã QR", "Make the QR code");
pub const CODE: Label = Label::new("Mã", "Code");
pub const EXPIRES: Label = Label::new("Hết hạn", "Expires");
pub const LINK: Label = Label::new("Đường dẫn", "Link");
pub const CODE_WORKS_ONCE_LET: Label = Label::new(
    "Mã chỉ dùng được một lần. Đưa cho tổ trưởng quét bằng ứng dụng Sổ tay; đừng chụp lại hay gửi qua mạng xã hội.",
    "The code works once. Let the group leader scan it with the Sổ tay app; do not photograph it or send it over social networks.",
);
pub const DEVICES: Label = Label::new("Thiết bị", "Devices");
pub const ENROLLMENT_CODE: Label = Label::new("Mã đăng ký", "Enrollment code");
pub const GROUPS_NOT_SYNCED_FOR: Label = Label::new(
    "Tổ không đồng bộ trong (ngày)",
    "Groups not synced for (days)",
);
pub const EXPORT: Label = Label::new("Xuất", "Export");
pub const GROUPS_NOT_SYNCED: Label = Label::new("Tổ chưa đồng bộ", "Groups not synced");
pub const NEVER: Label = Label::new("chưa bao giờ", "never");
pub const GROUPS_WITHOUT_DEVICE: Label =
    Label::new("Tổ chưa có thiết bị", "Groups without a device");
pub const NAME: Label = Label::new("Tên", "Name");
pub const ENROLLED: Label = Label::new("Đăng ký", "Enrolled");
pub const LAST_SYNC_WITH_DATA: Label = Label::new("Gửi dữ liệu lần cuối", "Last sync with data");
pub const STATUS: Label = Label::new("Trạng thái", "Status");
pub const REVOKED: Label = Label::new("Đã thu hồi", "Revoked");
pub const ACTIVE: Label = Label::new("Hoạt động", "Active");
pub const NOTHING_WAITING_AT_LAST_CONTACT: Label = Label::new(
    "Lần liên lạc cuối: không còn gì chưa gửi.",
    "At its last contact nothing was waiting.",
);
pub const WAITING_AT_LAST_CONTACT: Label =
    Label::new("Lần liên lạc cuối còn", "At its last contact");
pub const CHANGES_HAD_NOT_BEEN: Label = Label::new(
    "thay đổi chưa gửi: thu hồi sẽ xoá chúng trên máy.",
    "changes had not been sent: revoking erases them on the phone.",
);
pub const UNKNOWN_WHETHER_ANYTHING_WAITS: Label = Label::new(
    "Chưa rõ máy còn gì chưa gửi.",
    "Unknown whether anything waits on it.",
);
pub const REVOKE_AND_WIPE_PHONE: Label = Label::new(
    "Thu hồi và xoá dữ liệu trên máy",
    "Revoke and wipe the phone",
);
pub const AT: Label = Label::new("Lúc", "At");
pub const OFFICER: Label = Label::new("Cán bộ", "Officer");
pub const ACTION: Label = Label::new("Thao tác", "Action");
pub const TARGET: Label = Label::new("Đối tượng", "Target");
pub const DETAIL: Label = Label::new("Chi tiết", "Detail");
pub const AUDIT_LOG: Label = Label::new("Nhật ký thao tác", "Audit log");
pub const USERNAME: Label = Label::new("Tên đăng nhập", "Username");
pub const ROLE: Label = Label::new("Vai trò", "Role");
pub const MERGE_GROUPS: Label = Label::new(
    "Gộp các tổ (hoặc các khối), mã cách nhau bởi dấu cách",
    "Merge groups (or blocks), codes separated by spaces",
);
pub const MERGE_INTO: Label = Label::new("vào", "into");
pub const MERGE: Label = Label::new("Gộp", "Merge");
pub const BLOCKS: Label = Label::new("Các khối", "Blocks");
pub const BLOCK_CODE: Label = Label::new("Mã khối", "Block code");
pub const BLOCK_NAME: Label = Label::new("Tên khối", "Block name");
pub const ADD_BLOCK: Label = Label::new("Thêm khối", "Add block");
pub const SPLIT: Label = Label::new("Tách", "Split");
pub const SPLIT_GROUP: Label = Label::new("Tách tổ", "Split group");
pub const NEW_GROUPS: Label = Label::new(
    "Các tổ mới, mỗi dòng một tổ: MÃ=TÊN (ít nhất hai tổ)",
    "The new groups, one per line: CODE=NAME (at least two)",
);
pub const SPLIT_HOW: Label = Label::new(
    "Ghi mã tổ mới cho từng hộ. Thiết bị, các báo cáo khác và mã đăng ký chưa dùng của tổ chuyển sang tổ mới đầu tiên; nếu danh sách chưa đủ hay chưa đúng thì chưa có gì thay đổi.",
    "Write each household's new group code. The group's devices, its other reports and its unused enrollment codes go to the first new group; if the list is incomplete or wrong, nothing changes.",
);
pub const NEW_GROUP: Label = Label::new("Tổ mới", "New group");
pub const NO_HOUSEHOLDS_TO_SPLIT: Label = Label::new(
    "Tổ chưa có sổ hộ: tách tổ cần sổ hộ để biết hộ nào sang tổ nào.",
    "This group has no households register: a split needs one to know which household goes where.",
);
pub const RECORDED_UNDER: Label =
    Label::new("Ghi nhận khi còn thuộc", "Recorded when it belonged to");
pub const BY_WARD: Label = Label::new("Theo phường", "By ward");
pub const ANNOUNCEMENTS: Label = Label::new("Thông báo", "Announcements");
pub const SEND_ANNOUNCEMENT: Label = Label::new("Gửi thông báo", "Send an announcement");
pub const TITLE: Label = Label::new("Tiêu đề", "Title");
pub const TEXT: Label = Label::new("Nội dung", "Text");
pub const URGENT: Label = Label::new("Khẩn", "Urgent");
pub const SEND_TO: Label = Label::new(
    "Gửi tới (để trống: cả phường; hoặc block:k01 group:k02-t03, cách nhau bởi dấu cách)",
    "To (empty: the whole ward; or block:k01 group:k02-t03, separated by spaces)",
);
pub const SEND: Label = Label::new("Gửi", "Send");
pub const READ_BY: Label = Label::new("Đã đọc", "Read");
pub const NOT_READ_YET: Label = Label::new("Chưa đọc", "Not read yet");
pub const DEVICE: Label = Label::new("Máy", "Device");
pub const SENT_AT: Label = Label::new("Gửi lúc", "Sent");
pub const NO_ANNOUNCEMENT_YET: Label = Label::new("Chưa có thông báo nào.", "No announcement yet.");
pub const ROLLED_UP: Label = Label::new(
    "Số liệu của các tổ, khối đã gộp hoặc tách được tính vào đơn vị hiện nay (xem lịch sử ở trang Tổ).",
    "Figures of merged or split groups and blocks count in today's units (see the history on the Groups page).",
);
pub const PLACE_HISTORY: Label = Label::new(
    "Lịch sử gộp, tách, đổi tên (số liệu tính theo tổ hiện nay)",
    "Merges, splits and renames (figures count under today's groups)",
);
pub const ADMIN: Label = Label::new("Quản trị", "Admin");
pub const INITIAL_PASSWORD: Label = Label::new("Mật khẩu ban đầu", "Initial password");
pub const ADD_OFFICER: Label = Label::new("Thêm cán bộ", "Add officer");
pub const CREATED: Label = Label::new("Tạo lúc", "Created");
pub const FAILED_LOGINS: Label = Label::new("Đăng nhập sai", "Failed logins");
pub const LOCKED_UNTIL: Label = Label::new("Khóa đến", "Locked until");
pub const SOURCES: Label = Label::new("Nguồn tin", "Sources");
pub const DEACTIVATED: Label = Label::new("Đã vô hiệu hóa ", "Deactivated ");
pub const UNLOCK: Label = Label::new("Mở khóa", "Unlock");
pub const DEACTIVATE: Label = Label::new("Vô hiệu hóa", "Deactivate");
pub const OFFICERS: Label = Label::new("Cán bộ", "Officers");
pub const BLOCK: Label = Label::new("Khối", "Block");
pub const GROUP_CODE: Label = Label::new("Mã tổ", "Group code");
pub const GROUP_NAME: Label = Label::new("Tên tổ", "Group name");
pub const ADD_GROUP: Label = Label::new("Thêm tổ", "Add group");
pub const RENAME: Label = Label::new("Đổi tên", "Rename");
pub const GROUPS: Label = Label::new("Tổ", "Groups");
pub const REGISTERED_HOUSEHOLDS_COME_FROM: Label = Label::new(
    "Số hộ đăng ký lấy từ sổ hộ đã nạp lên máy chủ (sotay-server admin households import); khối hoặc phường có tổ chưa có sổ hộ thì không có tổng.",
    "Registered households come from the registers loaded on the server (sotay-server admin households import); a block or the ward with a group lacking one has no total.",
);
pub const HOUSEHOLDS_INSPECTED: Label = Label::new("Hộ đã kiểm tra", "Households inspected");
pub const PASSING: Label = Label::new("Đạt", "Passing");
pub const OVERDUE_VIOLATIONS: Label = Label::new("Vi phạm quá hạn", "Overdue violations");
pub const RE_INSPECTIONS_DUE_THIS: Label =
    Label::new("Cần tái kiểm tra tuần này", "Re-inspections due this week");
pub const FAILING_ITEMS: Label = Label::new("Hạng mục không đạt", "Failing items");
pub const NO_ITEM_FAILED: Label = Label::new("Không có hạng mục nào không đạt.", "No item failed.");
pub const VIOLATIONS_PAST_THEIR_DEADLINE: Label = Label::new(
    "Vi phạm quá hạn khắc phục",
    "Violations past their deadline",
);
pub const HOUSEHOLD: Label = Label::new("Hộ", "Household");
pub const ITEM: Label = Label::new("Hạng mục", "Item");
pub const FIX: Label = Label::new("Biện pháp", "Fix");
pub const DEADLINE: Label = Label::new("Hạn", "Deadline");
pub const RE_INSPECTIONS_DUE_BY: Label = Label::new(
    "Tái kiểm tra đến hết tuần này",
    "Re-inspections due by the end of this week",
);
pub const DUE_FOR_RE_INSPECTION: Label =
    Label::new("Đến hạn tái kiểm tra: ", "Due for re-inspection: ");
pub const BY_BLOCK: Label = Label::new("Theo khối", "By block");
pub const BY_GROUP: Label = Label::new("Theo tổ", "By group");
pub const FIRE_SAFETY: Label = Label::new("An toàn PCCC", "Fire safety");
pub const NO_REGISTER_YET: Label = Label::new("chưa có sổ hộ", "no register yet");
pub const INSPECTED_REGISTERED: Label =
    Label::new("Đã kiểm tra / đăng ký", "Inspected / registered");
pub const OVERDUE: Label = Label::new("Quá hạn", "Overdue");
pub const RE_INSPECT: Label = Label::new("Tái kiểm tra", "Re-inspect");
pub const RE_INSPECTION_DUE: Label = Label::new("Đến hạn tái kiểm tra", "Re-inspection due");
pub const HOUSEHOLD_INSPECTIONS: Label =
    Label::new("Lịch sử kiểm tra của hộ", "Household inspections");
pub const TIPS: Label = Label::new("Tin báo", "Tips");
pub const NAV_FIRE_SAFETY: Label = Label::new("PCCC", "Fire safety");
pub const NAV_AUDIT_LOG: Label = Label::new("Nhật ký", "Audit log");
pub const LOG_OUT: Label = Label::new("Đăng xuất", "Log out");
pub const RESIDENTS: Label = Label::new("Dân số", "Residents");
pub const COLLECTED: Label = Label::new("Thu nhận", "Collected");
pub const ACTIVATED: Label = Label::new("Kích hoạt", "Activated");
pub const ACTIVATED_COLLECTED: Label = Label::new("Kích hoạt / thu nhận", "Activated / collected");
pub const WARD_OVER_TIME: Label = Label::new("Toàn phường theo thời gian", "Ward over time");
pub const BY_GROUP_LATEST_COUNT: Label =
    Label::new("Theo tổ (số liệu mới nhất)", "By group (latest count)");
pub const LOG_IN: Label = Label::new("Đăng nhập", "Log in");
pub const WARD_POLICE: Label = Label::new("Công an phường", "Ward police");
pub const PASSWORD: Label = Label::new("Mật khẩu", "Password");
pub const OTHER_LANGUAGE: Label = Label::new("English", "Tiếng Việt");
pub const TOO_MANY_LOGIN_ATTEMPTS: Label = Label::new(
    "Quá nhiều lần đăng nhập. Hãy chờ một phút rồi thử lại.",
    "Too many login attempts. Wait a minute and try again.",
);
pub const WRONG_USERNAME_OR_PASSWORD: Label = Label::new(
    "Sai tên đăng nhập hoặc mật khẩu.",
    "Wrong username or password.",
);
pub const ACCOUNT_LOCKED_AFTER_REPEATED: Label = Label::new(
    "Tài khoản tạm khóa do đăng nhập sai nhiều lần, đến",
    "Account locked after repeated failed logins, until",
);
pub const NEW: Label = Label::new("Mới", "New");
pub const CATEGORY: Label = Label::new("Loại", "Category");
pub const URGENCY: Label = Label::new("Mức độ", "Urgency");
pub const FROM: Label = Label::new("Từ ngày", "From");
pub const TO: Label = Label::new("Đến ngày", "To");
pub const FILTER: Label = Label::new("Lọc", "Filter");
pub const CLEAR: Label = Label::new("Bỏ lọc", "Clear");
pub const TIPS_COUNTED: Label = Label::new("tin báo", "tips");
pub const RECEIVED: Label = Label::new("Nhận lúc", "Received");
pub const DESCRIPTION: Label = Label::new("Nội dung", "Description");
pub const PREVIOUS: Label = Label::new("Trang trước", "Previous");
pub const PAGE: Label = Label::new("Trang", "Page");
pub const NEXT: Label = Label::new("Trang sau", "Next");
pub const LOCATION: Label = Label::new("Địa điểm", "Location");
pub const LOCATION_NOT_REMEMBERED: Label =
    Label::new("Không nhớ địa điểm", "Location not remembered");
pub const OCCURRED: Label = Label::new("Xảy ra lúc", "Occurred");
pub const SOURCE: Label = Label::new("Nguồn", "Source");
pub const SEEN_BY_LEADER: Label = Label::new("Tổ trưởng trực tiếp thấy", "Seen by the leader");
pub const RESIDENT_ANONYMOUS: Label = Label::new("Người dân (ẩn danh)", "A resident (anonymous)");
pub const RESIDENT_NAMED_SEALED: Label = Label::new(
    "Người dân (có tên, đã niêm phong)",
    "A resident (named, sealed)",
);
pub const RESIDENT_SOURCE_ERASED: Label =
    Label::new("Người dân (nguồn tin đã xoá)", "A resident (source erased)");
pub const WITH_CONFIDENTIAL_NOTE: Label = Label::new("có ghi chú mật", "with a confidential note");
pub const SUSPECTS: Label = Label::new("Đối tượng", "Suspects");
pub const LATEST_REVISION: Label = Label::new("Bản mới nhất", "Latest revision");
pub const PHOTOS: Label = Label::new("Ảnh", "Photos");
pub const WARD_DECISION: Label = Label::new("Quyết định của phường", "Ward decision");
pub const NOTE: Label = Label::new("Ghi chú", "Note");
pub const UPDATE: Label = Label::new("Cập nhật", "Update");
pub const EARLIER_REVISIONS: Label = Label::new("Các bản trước", "Earlier revisions");
pub const TIP: Label = Label::new("Tin báo", "Tip");
pub const PHOTO: Label = Label::new("Ảnh", "Photo");
pub const PHOTO_NOT_UPLOADED_YET: Label =
    Label::new("Ảnh đang chờ tải lên", "Photo not uploaded yet");
pub const SEE_SOURCE: Label = Label::new("Xem nguồn tin", "See the source");
pub const SEEING_IT_IS_WRITTEN: Label = Label::new(
    "Việc xem được ghi vào nhật ký.",
    "Seeing it is written to the audit log.",
);
pub const ONLY_OFFICERS_GIVEN_SOURCES: Label = Label::new(
    "Chỉ cán bộ được giao quyền nguồn tin mới xem được người báo.",
    "Only officers given the sources permission can see who informed.",
);
pub const YOU_DO_NOT_HAVE: Label = Label::new(
    "Bạn không có quyền xem nguồn tin. Việc này đã được ghi vào nhật ký.",
    "You do not have the sources permission. This was written to the audit log.",
);
pub const THIS_SESSION_HOLDS_NO: Label = Label::new(
    "Phiên này không giữ khoá nguồn tin: hãy đăng xuất rồi đăng nhập lại.",
    "This session holds no source key: log out and log in again.",
);
pub const SEALED_SOURCE_DOES_NOT: Label = Label::new(
    "Nguồn tin niêm phong không mở được cho tin báo này (có thể bị chuyển từ tin khác).",
    "The sealed source does not open for this tip (it may have been moved from another).",
);
pub const INFORMANT_S_NAME: Label = Label::new("Tên người báo", "Informant's name");
pub const PHONE: Label = Label::new("Số điện thoại", "Phone");
pub const CONFIDENTIAL_NOTE: Label = Label::new("Ghi chú mật", "Confidential note");
pub const DO_NOT_COPY_PHOTOGRAPH: Label = Label::new(
    "Không sao chép, chụp hay ghi lại nguồn tin. Trang này không được lưu.",
    "Do not copy, photograph or write the source down. This page is not stored.",
);
pub const SOURCE_OF_TIP: Label = Label::new("Nguồn tin", "Source");
pub const YES: Label = Label::new("Có", "Yes");
pub const NO: Label = Label::new("Không", "No");
pub const WITHDRAW: Label = Label::new("Thu hồi quyền", "Withdraw");
pub const GRANT: Label = Label::new("Giao quyền", "Grant");

pub const CAMPAIGNS: Label = Label::new("Đợt cao điểm", "Campaigns");
pub const NEW_CAMPAIGN: Label = Label::new("Tạo đợt cao điểm", "Set a campaign");
pub const KIND: Label = Label::new("Loại đợt", "Kind");
pub const CAMPAIGN_TARGET: Label = Label::new("Chỉ tiêu", "Target");
pub const TARGET_HELP: Label = Label::new(
    "Chỉ tiêu PCCC và Đề án 06 là phần trăm (1–100): số hộ trong diện được kiểm tra trong đợt, số nhân khẩu đã kích hoạt định danh mức 2 đến ngày kết thúc. Chỉ tiêu tin báo là số tin mỗi tổ.",
    "Fire-safety and Đề án 06 targets are percentages (1–100): of the households in scope inspected within the period, of the residents with a level-2 e-ID by the end. A tip target is a number of tips per group.",
);
pub const HOUSEHOLDS_IN_SCOPE: Label = Label::new("Diện hộ (PCCC)", "Households (fire safety)");
pub const TIP_CATEGORIES: Label = Label::new(
    "Loại tin được tính (tin báo; không chọn: mọi loại)",
    "Tip categories that count (tips; none: every category)",
);
pub const APPLIES_TO: Label = Label::new(
    "Áp dụng cho (để trống: cả phường; hoặc block:k01 group:k02-t03)",
    "For (empty: the whole ward; or block:k01 group:k02-t03)",
);
pub const APPLIES_TO_SHORT: Label = Label::new("Áp dụng cho", "For");
pub const SET_CAMPAIGN: Label = Label::new("Tạo đợt", "Set the campaign");
pub const PERIOD: Label = Label::new("Thời gian", "Period");
pub const PROGRESS: Label = Label::new("Tiến độ", "Progress");
pub const PLANNED: Label = Label::new("Sắp diễn ra", "Planned");
pub const RUNNING: Label = Label::new("Đang diễn ra", "Running");
pub const ENDED: Label = Label::new("Đã kết thúc", "Ended");
pub const CANCELLED: Label = Label::new("Đã hủy", "Called off");
pub const NO_CAMPAIGN_YET: Label = Label::new("Chưa có đợt cao điểm nào.", "No campaign yet.");
pub const DAYS_LEFT: Label = Label::new("Số ngày còn lại", "Days left");
pub const LAST_DAY: Label = Label::new("Hôm nay là ngày cuối", "Today is the last day");
pub const LEFT_TO_REACH: Label =
    Label::new("Còn thiếu để đạt chỉ tiêu", "Still needed for the target");
pub const WEEK_GAIN: Label = Label::new("Tăng trong 7 ngày", "Gained in 7 days");
pub const REACHED: Label = Label::new("Đạt chỉ tiêu", "Target reached");
pub const NOT_REACHED: Label = Label::new("Chưa đạt chỉ tiêu", "Target not reached");
pub const RANK: Label = Label::new("Hạng", "Rank");
pub const LAST_PROGRESS: Label = Label::new("Tiến triển gần nhất", "Last progress");
pub const NO_PROGRESS_YET: Label = Label::new("chưa có", "none yet");
pub const STALLED_GROUPS: Label = Label::new(
    "Tổ chưa đạt chỉ tiêu, không có tiến triển trong {n} ngày qua",
    "Groups short of the target with no progress in the last {n} days",
);
pub const NO_STALLED_GROUP: Label =
    Label::new("Không có tổ nào đứng yên.", "No group has stalled.");
pub const DAILY_PROGRESS: Label = Label::new("Tiến độ từng ngày", "Progress day by day");
pub const WEEKLY_REPORT: Label = Label::new(
    "Báo cáo tuần (XLSX, mỗi đợt một trang)",
    "Weekly report (XLSX, a sheet per campaign)",
);
pub const CANCEL_CAMPAIGN: Label = Label::new("Hủy đợt này", "Call this campaign off");
pub const UNKNOWN_FIGURES: Label = Label::new(
    "chưa có số liệu (chưa có sổ hộ hoặc số liệu đếm)",
    "no figures (no register or count yet)",
);
pub const WITHOUT_FIGURES: Label = Label::new("tổ chưa có số liệu", "groups without figures");
pub const SET_BY: Label = Label::new("Người tạo", "Set by");
pub const NOTHING_IN_SCOPE: Label = Label::new("không có gì trong diện", "nothing in scope");
pub const STALLED_FROM_DAY: Label = Label::new(
    "Danh sách này có từ ngày thứ {n} của đợt.",
    "This list starts on the campaign's day {n}.",
);
pub const ANNOUNCEMENT_PHOTO: Label = Label::new(
    "Ảnh kèm theo (không bắt buộc; JPEG, PNG hoặc WebP, tối đa 4 MB)",
    "A photo (optional; JPEG, PNG or WebP, at most 4 MB)",
);
pub const BACK_TO_DASHBOARD: Label = Label::new("Về trang chính", "Back to the dashboard");

/// Why a request was refused ([`PageCode`]), as the error page says it.
pub fn refusal(code: PageCode) -> Label {
    use PageCode as C;
    match code {
        C::AdminsOnly => Label::new(
            "Chỉ quản trị viên được làm việc này.",
            "Only an admin can do this.",
        ),
        C::Csrf => Label::new(
            "Biểu mẫu đã cũ hoặc không phải của phiên này. Tải lại trang rồi thử lại.",
            "The form is stale or not from this session. Reload the page and try again.",
        ),
        C::NotFound => Label::new("Không tìm thấy.", "Not found."),
        C::Internal => Label::new(
            "Máy chủ gặp lỗi; không có gì bị thay đổi. Thử lại sau.",
            "The server failed; nothing was changed. Try again later.",
        ),
        C::UnknownRole => Label::new(
            "Vai trò không hợp lệ: chọn cán bộ hoặc quản trị viên",
            "Unknown role: choose officer or admin",
        ),
        C::BadUsername => Label::new(
            "Tên đăng nhập cần 2–40 ký tự a–z, 0–9, '.', '_' hoặc '-'.",
            "A username is 2–40 characters of a–z, 0–9, '.', '_' or '-'.",
        ),
        C::WeakPassword => NEW_PASSWORD_NEEDS_AT,
        C::OfficerExists => Label::new(
            "Đã có cán bộ với tên đăng nhập này",
            "An officer with this username exists already",
        ),
        C::WrongPassword => CURRENT_PASSWORD_IS_WRONG,
        C::SamePassword => NEW_PASSWORD_MUST_DIFFER,
        C::PasswordMismatch => TWO_NEW_PASSWORDS_DIFFER,
        C::SelfDeactivation => Label::new(
            "Quản trị viên không thể tự khoá tài khoản của mình.",
            "An admin cannot deactivate themselves.",
        ),
        C::UnknownBlock => Label::new("Không có khối này", "No such block"),
        C::UnknownGroup => Label::new("Không có tổ này", "No such group"),
        C::GroupExists => Label::new("Mã tổ này đã có", "This group code exists already"),
        C::GroupOutsideBlock => Label::new(
            "Mã tổ phải bắt đầu bằng mã khối của nó",
            "A group code must start with its block's code",
        ),
        C::NameRequired => Label::new("Cần nhập tên.", "A name is required."),
        C::BadPlace => Label::new("Mã địa bàn không hợp lệ", "Not a valid place code"),
        C::NoteTooLong => Label::new("Ghi chú quá dài.", "The note is too long."),
        C::UnknownStatus => Label::new("Trạng thái không hợp lệ.", "Unknown status."),
        C::UnknownValidity => Label::new("Thời hạn không hợp lệ.", "Unknown validity."),
        C::UnknownAction => Label::new("Thao tác không hợp lệ.", "Unknown action."),
        C::SourcesHolderOnly => Label::new(
            "Chỉ quản trị viên có quyền xem nguồn tin mới được cấp hay thu hồi quyền này.",
            "Only an admin who holds the sources permission can give or take it.",
        ),
        C::OwnSourcesPermission => Label::new(
            "Quản trị viên không thể tự đổi quyền xem nguồn tin của mình.",
            "An admin cannot change their own sources permission.",
        ),
        C::NoSessionKey => THIS_SESSION_HOLDS_NO,
        C::NoOfficerKey => Label::new(
            "Cán bộ này chưa có khoá: họ cần đăng nhập một lần trước",
            "This officer has no key yet: they must log in once first",
        ),
        C::ProvinceReadOnly => Label::new(
            "Cán bộ cấp tỉnh chỉ xem số liệu các phường, không thay đổi được.",
            "A province officer reads every ward's figures but changes none.",
        ),
        C::PlaceConflict => Label::new(
            "Có người vừa thay đổi các địa bàn này; chưa có gì thay đổi. Tải lại trang rồi thử lại.",
            "Someone just changed these places; nothing was changed. Reload and try again.",
        ),
        C::SplitFile => Label::new(
            "Danh sách hộ để tách tổ chưa đúng; chưa có gì thay đổi",
            "The households list for the split is wrong; nothing was changed",
        ),
        C::BadAnnouncement => Label::new(
            "Thông báo cần tiêu đề (tối đa 120 ký tự) và nội dung (tối đa 4000 ký tự); chưa gửi gì.",
            "An announcement needs a title (at most 120 characters) and a text (at most 4,000); nothing was sent.",
        ),
        C::BadPhoto => Label::new(
            "Không đọc được ảnh (cần JPEG, PNG hoặc WebP, tối đa 4 MB); chưa gửi gì.",
            "The photo could not be read (JPEG, PNG or WebP, at most 4 MB); nothing was sent.",
        ),
        C::BadCampaign => Label::new(
            "Đợt cao điểm chưa hợp lệ; chưa tạo gì",
            "The campaign is not valid; nothing was set",
        ),
        C::NoWard => Label::new(
            "Tài khoản chưa thuộc phường nào; nhờ quản trị máy chủ gán phường.",
            "This account belongs to no ward; ask the server's administrator to assign one.",
        ),
    }
}

/// Every text above, by name.
pub fn catalog() -> Vec<(&'static str, Label)> {
    vec![
        ("YOUR_PASSWORD_WAS_SET", YOUR_PASSWORD_WAS_SET),
        ("MERGE_GROUPS", MERGE_GROUPS),
        ("MERGE_INTO", MERGE_INTO),
        ("MERGE", MERGE),
        ("BLOCKS", BLOCKS),
        ("BLOCK_CODE", BLOCK_CODE),
        ("BLOCK_NAME", BLOCK_NAME),
        ("ADD_BLOCK", ADD_BLOCK),
        ("SPLIT", SPLIT),
        ("SPLIT_GROUP", SPLIT_GROUP),
        ("NEW_GROUPS", NEW_GROUPS),
        ("SPLIT_HOW", SPLIT_HOW),
        ("NEW_GROUP", NEW_GROUP),
        ("NO_HOUSEHOLDS_TO_SPLIT", NO_HOUSEHOLDS_TO_SPLIT),
        ("ROLLED_UP", ROLLED_UP),
        ("ANNOUNCEMENTS", ANNOUNCEMENTS),
        ("SEND_ANNOUNCEMENT", SEND_ANNOUNCEMENT),
        ("TITLE", TITLE),
        ("TEXT", TEXT),
        ("URGENT", URGENT),
        ("SEND_TO", SEND_TO),
        ("SEND", SEND),
        ("READ_BY", READ_BY),
        ("NOT_READ_YET", NOT_READ_YET),
        ("DEVICE", DEVICE),
        ("SENT_AT", SENT_AT),
        ("NO_ANNOUNCEMENT_YET", NO_ANNOUNCEMENT_YET),
        ("BY_WARD", BY_WARD),
        ("RECORDED_UNDER", RECORDED_UNDER),
        ("PLACE_HISTORY", PLACE_HISTORY),
        ("CURRENT_PASSWORD", CURRENT_PASSWORD),
        ("NEW_PASSWORD", NEW_PASSWORD),
        ("NEW_PASSWORD_AGAIN", NEW_PASSWORD_AGAIN),
        ("CHANGE_PASSWORD", CHANGE_PASSWORD),
        ("CHANGING_YOUR_PASSWORD_ENDS", CHANGING_YOUR_PASSWORD_ENDS),
        ("ACCOUNT", ACCOUNT),
        ("TWO_NEW_PASSWORDS_DIFFER", TWO_NEW_PASSWORDS_DIFFER),
        ("PASSWORD_CHANGED", PASSWORD_CHANGED),
        ("CURRENT_PASSWORD_IS_WRONG", CURRENT_PASSWORD_IS_WRONG),
        ("NEW_PASSWORD_MUST_DIFFER", NEW_PASSWORD_MUST_DIFFER),
        ("NEW_PASSWORD_NEEDS_AT", NEW_PASSWORD_NEEDS_AT),
        ("ENROLL_NEW_PHONE", ENROLL_NEW_PHONE),
        ("GROUP", GROUP),
        ("VALID_FOR", VALID_FOR),
        ("VALID_ONE_DAY", VALID_ONE_DAY),
        ("VALID_THREE_DAYS", VALID_THREE_DAYS),
        ("VALID_SEVEN_DAYS", VALID_SEVEN_DAYS),
        ("MAKE_QR_CODE", MAKE_QR_CODE),
        ("CODE", CODE),
        ("EXPIRES", EXPIRES),
        ("LINK", LINK),
        ("CODE_WORKS_ONCE_LET", CODE_WORKS_ONCE_LET),
        ("DEVICES", DEVICES),
        ("ENROLLMENT_CODE", ENROLLMENT_CODE),
        ("GROUPS_NOT_SYNCED_FOR", GROUPS_NOT_SYNCED_FOR),
        ("EXPORT", EXPORT),
        ("GROUPS_NOT_SYNCED", GROUPS_NOT_SYNCED),
        ("NEVER", NEVER),
        ("GROUPS_WITHOUT_DEVICE", GROUPS_WITHOUT_DEVICE),
        ("NAME", NAME),
        ("ENROLLED", ENROLLED),
        ("LAST_SYNC_WITH_DATA", LAST_SYNC_WITH_DATA),
        ("STATUS", STATUS),
        ("REVOKED", REVOKED),
        ("ACTIVE", ACTIVE),
        (
            "NOTHING_WAITING_AT_LAST_CONTACT",
            NOTHING_WAITING_AT_LAST_CONTACT,
        ),
        ("WAITING_AT_LAST_CONTACT", WAITING_AT_LAST_CONTACT),
        ("CHANGES_HAD_NOT_BEEN", CHANGES_HAD_NOT_BEEN),
        (
            "UNKNOWN_WHETHER_ANYTHING_WAITS",
            UNKNOWN_WHETHER_ANYTHING_WAITS,
        ),
        ("REVOKE_AND_WIPE_PHONE", REVOKE_AND_WIPE_PHONE),
        ("AT", AT),
        ("OFFICER", OFFICER),
        ("ACTION", ACTION),
        ("TARGET", TARGET),
        ("DETAIL", DETAIL),
        ("AUDIT_LOG", AUDIT_LOG),
        ("USERNAME", USERNAME),
        ("ROLE", ROLE),
        ("ADMIN", ADMIN),
        ("INITIAL_PASSWORD", INITIAL_PASSWORD),
        ("ADD_OFFICER", ADD_OFFICER),
        ("CREATED", CREATED),
        ("FAILED_LOGINS", FAILED_LOGINS),
        ("LOCKED_UNTIL", LOCKED_UNTIL),
        ("SOURCES", SOURCES),
        ("DEACTIVATED", DEACTIVATED),
        ("UNLOCK", UNLOCK),
        ("DEACTIVATE", DEACTIVATE),
        ("OFFICERS", OFFICERS),
        ("BLOCK", BLOCK),
        ("GROUP_CODE", GROUP_CODE),
        ("GROUP_NAME", GROUP_NAME),
        ("ADD_GROUP", ADD_GROUP),
        ("RENAME", RENAME),
        ("GROUPS", GROUPS),
        (
            "REGISTERED_HOUSEHOLDS_COME_FROM",
            REGISTERED_HOUSEHOLDS_COME_FROM,
        ),
        ("HOUSEHOLDS_INSPECTED", HOUSEHOLDS_INSPECTED),
        ("PASSING", PASSING),
        ("OVERDUE_VIOLATIONS", OVERDUE_VIOLATIONS),
        ("RE_INSPECTIONS_DUE_THIS", RE_INSPECTIONS_DUE_THIS),
        ("FAILING_ITEMS", FAILING_ITEMS),
        ("NO_ITEM_FAILED", NO_ITEM_FAILED),
        (
            "VIOLATIONS_PAST_THEIR_DEADLINE",
            VIOLATIONS_PAST_THEIR_DEADLINE,
        ),
        ("HOUSEHOLD", HOUSEHOLD),
        ("ITEM", ITEM),
        ("FIX", FIX),
        ("DEADLINE", DEADLINE),
        ("RE_INSPECTIONS_DUE_BY", RE_INSPECTIONS_DUE_BY),
        ("DUE_FOR_RE_INSPECTION", DUE_FOR_RE_INSPECTION),
        ("BY_BLOCK", BY_BLOCK),
        ("BY_GROUP", BY_GROUP),
        ("FIRE_SAFETY", FIRE_SAFETY),
        ("NO_REGISTER_YET", NO_REGISTER_YET),
        ("INSPECTED_REGISTERED", INSPECTED_REGISTERED),
        ("OVERDUE", OVERDUE),
        ("RE_INSPECT", RE_INSPECT),
        ("RE_INSPECTION_DUE", RE_INSPECTION_DUE),
        ("HOUSEHOLD_INSPECTIONS", HOUSEHOLD_INSPECTIONS),
        ("TIPS", TIPS),
        ("NAV_FIRE_SAFETY", NAV_FIRE_SAFETY),
        ("NAV_AUDIT_LOG", NAV_AUDIT_LOG),
        ("LOG_OUT", LOG_OUT),
        ("RESIDENTS", RESIDENTS),
        ("COLLECTED", COLLECTED),
        ("ACTIVATED", ACTIVATED),
        ("ACTIVATED_COLLECTED", ACTIVATED_COLLECTED),
        ("WARD_OVER_TIME", WARD_OVER_TIME),
        ("BY_GROUP_LATEST_COUNT", BY_GROUP_LATEST_COUNT),
        ("LOG_IN", LOG_IN),
        ("WARD_POLICE", WARD_POLICE),
        ("PASSWORD", PASSWORD),
        ("OTHER_LANGUAGE", OTHER_LANGUAGE),
        ("TOO_MANY_LOGIN_ATTEMPTS", TOO_MANY_LOGIN_ATTEMPTS),
        ("WRONG_USERNAME_OR_PASSWORD", WRONG_USERNAME_OR_PASSWORD),
        (
            "ACCOUNT_LOCKED_AFTER_REPEATED",
            ACCOUNT_LOCKED_AFTER_REPEATED,
        ),
        ("NEW", NEW),
        ("CATEGORY", CATEGORY),
        ("URGENCY", URGENCY),
        ("FROM", FROM),
        ("TO", TO),
        ("FILTER", FILTER),
        ("CLEAR", CLEAR),
        ("TIPS_COUNTED", TIPS_COUNTED),
        ("RECEIVED", RECEIVED),
        ("DESCRIPTION", DESCRIPTION),
        ("PREVIOUS", PREVIOUS),
        ("PAGE", PAGE),
        ("NEXT", NEXT),
        ("LOCATION", LOCATION),
        ("LOCATION_NOT_REMEMBERED", LOCATION_NOT_REMEMBERED),
        ("OCCURRED", OCCURRED),
        ("SOURCE", SOURCE),
        ("SEEN_BY_LEADER", SEEN_BY_LEADER),
        ("RESIDENT_ANONYMOUS", RESIDENT_ANONYMOUS),
        ("RESIDENT_NAMED_SEALED", RESIDENT_NAMED_SEALED),
        ("RESIDENT_SOURCE_ERASED", RESIDENT_SOURCE_ERASED),
        ("WITH_CONFIDENTIAL_NOTE", WITH_CONFIDENTIAL_NOTE),
        ("SUSPECTS", SUSPECTS),
        ("LATEST_REVISION", LATEST_REVISION),
        ("PHOTOS", PHOTOS),
        ("WARD_DECISION", WARD_DECISION),
        ("NOTE", NOTE),
        ("UPDATE", UPDATE),
        ("EARLIER_REVISIONS", EARLIER_REVISIONS),
        ("TIP", TIP),
        ("PHOTO", PHOTO),
        ("PHOTO_NOT_UPLOADED_YET", PHOTO_NOT_UPLOADED_YET),
        ("SEE_SOURCE", SEE_SOURCE),
        ("SEEING_IT_IS_WRITTEN", SEEING_IT_IS_WRITTEN),
        ("ONLY_OFFICERS_GIVEN_SOURCES", ONLY_OFFICERS_GIVEN_SOURCES),
        ("YOU_DO_NOT_HAVE", YOU_DO_NOT_HAVE),
        ("THIS_SESSION_HOLDS_NO", THIS_SESSION_HOLDS_NO),
        ("SEALED_SOURCE_DOES_NOT", SEALED_SOURCE_DOES_NOT),
        ("INFORMANT_S_NAME", INFORMANT_S_NAME),
        ("PHONE", PHONE),
        ("CONFIDENTIAL_NOTE", CONFIDENTIAL_NOTE),
        ("DO_NOT_COPY_PHOTOGRAPH", DO_NOT_COPY_PHOTOGRAPH),
        ("SOURCE_OF_TIP", SOURCE_OF_TIP),
        ("YES", YES),
        ("NO", NO),
        ("WITHDRAW", WITHDRAW),
        ("GRANT", GRANT),
        ("BACK_TO_DASHBOARD", BACK_TO_DASHBOARD),
        ("ANNOUNCEMENT_PHOTO", ANNOUNCEMENT_PHOTO),
        ("STALLED_FROM_DAY", STALLED_FROM_DAY),
        ("NOTHING_IN_SCOPE", NOTHING_IN_SCOPE),
        ("CAMPAIGNS", CAMPAIGNS),
        ("NEW_CAMPAIGN", NEW_CAMPAIGN),
        ("KIND", KIND),
        ("CAMPAIGN_TARGET", CAMPAIGN_TARGET),
        ("TARGET_HELP", TARGET_HELP),
        ("HOUSEHOLDS_IN_SCOPE", HOUSEHOLDS_IN_SCOPE),
        ("TIP_CATEGORIES", TIP_CATEGORIES),
        ("APPLIES_TO", APPLIES_TO),
        ("APPLIES_TO_SHORT", APPLIES_TO_SHORT),
        ("SET_CAMPAIGN", SET_CAMPAIGN),
        ("PERIOD", PERIOD),
        ("PROGRESS", PROGRESS),
        ("PLANNED", PLANNED),
        ("RUNNING", RUNNING),
        ("ENDED", ENDED),
        ("CANCELLED", CANCELLED),
        ("NO_CAMPAIGN_YET", NO_CAMPAIGN_YET),
        ("DAYS_LEFT", DAYS_LEFT),
        ("LAST_DAY", LAST_DAY),
        ("LEFT_TO_REACH", LEFT_TO_REACH),
        ("WEEK_GAIN", WEEK_GAIN),
        ("REACHED", REACHED),
        ("NOT_REACHED", NOT_REACHED),
        ("RANK", RANK),
        ("LAST_PROGRESS", LAST_PROGRESS),
        ("NO_PROGRESS_YET", NO_PROGRESS_YET),
        ("STALLED_GROUPS", STALLED_GROUPS),
        ("NO_STALLED_GROUP", NO_STALLED_GROUP),
        ("DAILY_PROGRESS", DAILY_PROGRESS),
        ("WEEKLY_REPORT", WEEKLY_REPORT),
        ("CANCEL_CAMPAIGN", CANCEL_CAMPAIGN),
        ("UNKNOWN_FIGURES", UNKNOWN_FIGURES),
        ("WITHOUT_FIGURES", WITHOUT_FIGURES),
        ("SET_BY", SET_BY),
    ]
}

/// Every refusal text, by code.
pub fn refusals() -> Vec<(PageCode, Label)> {
    PageCode::ALL.iter().map(|&c| (c, refusal(c))).collect()
}

#[cfg(test)]
mod tests {
    use super::catalog;
    use std::collections::HashSet;

    #[test]
    fn every_text_is_in_both_languages_and_listed_once() {
        let all = catalog();
        let mut names = HashSet::new();
        let mut pairs = HashSet::new();
        for (name, label) in &all {
            assert!(names.insert(*name), "{name} listed twice");
            assert!(
                pairs.insert((label.vi, label.en)),
                "{name} repeats another text"
            );
            assert!(
                !label.vi.trim().is_empty() && !label.en.trim().is_empty(),
                "{name}"
            );
            assert_ne!(label.vi, label.en, "{name} is not translated");
        }
        // Every constant of this file is in the catalog.
        let source = include_str!("text.rs");
        let declared = source
            .lines()
            .filter(|l| l.starts_with("pub const "))
            .count();
        assert_eq!(declared, all.len(), "a text is missing from catalog()");
    }

    #[test]
    fn every_refusal_is_in_both_languages() {
        for (code, label) in super::refusals() {
            assert!(!label.vi.is_empty() && !label.en.is_empty(), "{code}");
            assert_ne!(label.vi, label.en, "{code} is not translated");
        }
    }

    #[test]
    fn the_password_rule_says_the_minimum_the_engine_checks() {
        let min = crate::dashboard::accounts::PASSWORD_MIN.to_string();
        assert!(super::NEW_PASSWORD_NEEDS_AT.vi.contains(&min));
        assert!(super::NEW_PASSWORD_NEEDS_AT.en.contains(&min));
    }
}
