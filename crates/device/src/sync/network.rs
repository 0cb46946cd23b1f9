//! The kind of network the device is on, and the "sync only on Wi-Fi"
//! policy that depends on it.
//!
//! The policy ([`sync_allowed`]) lives here, in the engine, so it is the
//! same on every platform and tested without a window. Where the network
//! kind comes from is the shell's choice, as a [`NetworkMonitor`]:
//! - desktop Linux reads it from the kernel ([`SysfsNetwork`]: the default
//!   route in `/proc/net/route`, its interface in `/sys/class/net`);
//! - a platform that reports the network type itself (Android's
//!   `ConnectivityManager`, iOS's `NWPathMonitor`, through a mobile plugin)
//!   pushes it into a [`SharedNetwork`]. Apps on Android cannot read
//!   `/proc/net` (SELinux), so sysfs is no use there.
//! - Anything else says [`NetworkKind::Unknown`], which never blocks a sync.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// The kind of network the device's traffic goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum NetworkKind {
    /// The platform cannot tell.
    Unknown,
    /// No route out.
    Offline,
    Wifi,
    /// Ethernet, or another link that is not known to be mobile data.
    Wired,
    /// Mobile data.
    Cellular,
}

impl NetworkKind {
    const ALL: [NetworkKind; 5] = [
        NetworkKind::Unknown,
        NetworkKind::Offline,
        NetworkKind::Wifi,
        NetworkKind::Wired,
        NetworkKind::Cellular,
    ];

    fn from_u8(n: u8) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| *k as u8 == n)
            .unwrap_or(NetworkKind::Unknown)
    }
}

/// Tells the sync loop what kind of network the device is on. Asked before
/// every sync and on every recheck while a sync waits, so it should be
/// cheap and must not block for long.
pub trait NetworkMonitor: Send + Sync + 'static {
    fn current(&self) -> NetworkKind;
}

/// Whether photos may be sent now (reports go by [`sync_allowed`]): on
/// mobile data only when the leader said so, since photos are what costs.
pub fn photos_allowed(photos_on_mobile_data: bool, net: NetworkKind) -> bool {
    match net {
        NetworkKind::Cellular => photos_on_mobile_data,
        NetworkKind::Unknown | NetworkKind::Offline | NetworkKind::Wifi | NetworkKind::Wired => {
            true
        }
    }
}

/// Whether a sync may run now.
///
/// With `wifi_only`, only mobile data ([`NetworkKind::Cellular`]) holds a
/// sync back:
/// - `Wifi` and `Wired` are what the leader meant by "Wi-Fi": not paid for
///   by the megabyte.
/// - `Unknown` allows: a platform that cannot tell (a desktop without
///   `/sys`, a shell that has not reported yet) would otherwise never sync,
///   and the leader would not know why.
/// - `Offline` allows: whether the server answers is the loop's
///   reachability probing's business, not the policy's. It also covers a
///   network the monitor cannot see (an IPv6-only route reads as offline).
pub fn sync_allowed(wifi_only: bool, net: NetworkKind) -> bool {
    match net {
        NetworkKind::Cellular => !wifi_only,
        NetworkKind::Unknown | NetworkKind::Offline | NetworkKind::Wifi | NetworkKind::Wired => {
            true
        }
    }
}

/// The monitor for where the shell has nothing better: the kernel's view
/// on Linux (not Android), elsewhere one that always says `Unknown`.
pub fn default_monitor() -> Arc<dyn NetworkMonitor> {
    #[cfg(all(target_os = "linux", not(target_os = "android")))]
    {
        Arc::new(SysfsNetwork::system())
    }
    #[cfg(not(all(target_os = "linux", not(target_os = "android"))))]
    {
        Arc::new(SharedNetwork::new(NetworkKind::Unknown))
    }
}

/// A monitor whose kind is set from outside: by a shell whose platform
/// pushes the network type, and by tests. Clones share one value.
#[derive(Debug, Clone)]
pub struct SharedNetwork(Arc<AtomicU8>);

impl SharedNetwork {
    pub fn new(kind: NetworkKind) -> Self {
        Self(Arc::new(AtomicU8::new(kind as u8)))
    }

    pub fn set(&self, kind: NetworkKind) {
        self.0.store(kind as u8, Ordering::Release);
    }
}

impl NetworkMonitor for SharedNetwork {
    fn current(&self) -> NetworkKind {
        NetworkKind::from_u8(self.0.load(Ordering::Acquire))
    }
}

/// What the UI reports, when it can tell, else a fallback monitor. An
/// Android WebView knows the network type (`navigator.connection.type`, the
/// Network Information API) where the app cannot read `/proc/net`; the UI
/// reports it through the shell, and the loop uses it over the fallback
/// (sysfs on a Linux desktop, whose WebKitGTK reports nothing).
#[derive(Clone)]
pub struct ReportedOr {
    pub reported: SharedNetwork,
    pub fallback: Arc<dyn NetworkMonitor>,
}

impl NetworkMonitor for ReportedOr {
    fn current(&self) -> NetworkKind {
        match self.reported.current() {
            NetworkKind::Unknown => self.fallback.current(),
            known => known,
        }
    }
}

/// The Linux kernel's view: the interface of the IPv4 default route, and
/// what sysfs says that interface is. Reads two small files per call.
#[derive(Debug, Clone)]
pub struct SysfsNetwork {
    pub proc_route: PathBuf,
    pub sys_class_net: PathBuf,
}

/// `RTF_UP` in `/proc/net/route`'s flags.
const RTF_UP: u32 = 0x1;

/// Interface names of mobile-data modems: `ww*` (the kernel's `wwan0`,
/// systemd's predictable `wwp0s20f0u6`), `rmnet*` (Qualcomm), `ccmni*`
/// (MediaTek).
/// `usb*` is not among them: a phone's USB tethering may share its Wi-Fi as
/// well as its mobile data, so the name says nothing; a modem driver that
/// knows better marks the device `DEVTYPE=wwan`.
const CELLULAR_PREFIXES: &[&str] = &["ww", "rmnet", "ccmni"];

impl SysfsNetwork {
    /// `/proc/net/route` and `/sys/class/net`.
    pub fn system() -> Self {
        Self::at(Path::new("/"))
    }

    /// The same files under `root` (`root/proc/net/route`,
    /// `root/sys/class/net`), for tests.
    pub fn at(root: &Path) -> Self {
        Self {
            proc_route: root.join("proc/net/route"),
            sys_class_net: root.join("sys/class/net"),
        }
    }

    /// What kind of link `iface` is. `Unknown` when sysfs does not say.
    fn classify(&self, iface: &str) -> NetworkKind {
        let dir = self.sys_class_net.join(iface);
        if dir.join("wireless").exists() || dir.join("phy80211").exists() {
            return NetworkKind::Wifi;
        }
        if CELLULAR_PREFIXES.iter().any(|p| iface.starts_with(p)) {
            return NetworkKind::Cellular;
        }
        let Ok(uevent) = std::fs::read_to_string(dir.join("uevent")) else {
            return NetworkKind::Unknown;
        };
        match uevent
            .lines()
            .find_map(|l| l.strip_prefix("DEVTYPE="))
            .map(str::trim)
        {
            Some("wlan") => NetworkKind::Wifi,
            Some("wwan") => NetworkKind::Cellular,
            _ => NetworkKind::Wired,
        }
    }
}

/// The interface of the usable IPv4 default route with the lowest metric,
/// from the text of `/proc/net/route` (hex destination, mask and flags,
/// decimal metric, after a header line).
fn default_route_iface(table: &str) -> Option<&str> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, flags, metric, mask) =
                (*f.first()?, *f.get(1)?, *f.get(3)?, *f.get(6)?, *f.get(7)?);
            let up = u32::from_str_radix(flags, 16).ok()? & RTF_UP != 0;
            let default = u32::from_str_radix(dest, 16).ok()? == 0
                && u32::from_str_radix(mask, 16).ok()? == 0;
            (up && default).then_some((metric.parse::<u32>().ok()?, iface))
        })
        .min_by_key(|(metric, _)| *metric)
        .map(|(_, iface)| iface)
}

impl NetworkMonitor for SysfsNetwork {
    fn current(&self) -> NetworkKind {
        let Ok(table) = std::fs::read_to_string(&self.proc_route) else {
            return NetworkKind::Unknown;
        };
        match default_route_iface(&table) {
            None => NetworkKind::Offline,
            Some(iface) => self.classify(iface),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::fs;

    const HEADER: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    /// A route line: a default route when `dest` is all zeros.
    fn route(iface: &str, dest: &str, flags: &str, metric: u32) -> String {
        let mask = if dest == "00000000" {
            "00000000"
        } else {
            "00FFFFFF"
        };
        format!("{iface}\t{dest}\t0102A8C0\t{flags}\t0\t0\t{metric}\t{mask}\t0\t0\t0\n")
    }

    struct Tree(tempfile::TempDir);

    impl Tree {
        fn new(routes: &[String]) -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::create_dir_all(dir.path().join("proc/net")).expect("proc");
            fs::create_dir_all(dir.path().join("sys/class/net")).expect("sys");
            fs::write(
                dir.path().join("proc/net/route"),
                HEADER.to_owned() + &routes.concat(),
            )
            .expect("route");
            Self(dir)
        }

        /// An interface with these files (`name/` for a directory).
        fn iface(&self, name: &str, files: &[(&str, &str)]) -> &Self {
            let dir = self.0.path().join("sys/class/net").join(name);
            fs::create_dir_all(&dir).expect("iface");
            for (file, body) in files {
                match file.strip_suffix('/') {
                    Some(d) => fs::create_dir_all(dir.join(d)).expect("dir"),
                    None => fs::write(dir.join(file), body).expect("file"),
                }
            }
            self
        }

        fn current(&self) -> NetworkKind {
            SysfsNetwork::at(self.0.path()).current()
        }
    }

    const ETH: &str = "INTERFACE=eth0\nIFINDEX=2\n";

    #[test]
    fn wifi_by_wireless_directory_phy_link_or_devtype() {
        let t = Tree::new(&[route("wlp2s0", "00000000", "0003", 600)]);
        t.iface(
            "wlp2s0",
            &[("wireless/", ""), ("uevent", "INTERFACE=wlp2s0\n")],
        );
        assert_eq!(t.current(), NetworkKind::Wifi);

        let t = Tree::new(&[route("wlan0", "00000000", "0003", 0)]);
        t.iface("wlan0", &[("phy80211/", "")]);
        assert_eq!(t.current(), NetworkKind::Wifi);

        let t = Tree::new(&[route("wlan0", "00000000", "0003", 0)]);
        t.iface("wlan0", &[("uevent", "DEVTYPE=wlan\nINTERFACE=wlan0\n")]);
        assert_eq!(t.current(), NetworkKind::Wifi);
    }

    #[test]
    fn wired_when_sysfs_names_no_radio() {
        let t = Tree::new(&[
            route("eth0", "0002A8C0", "0001", 0),
            route("eth0", "00000000", "0003", 100),
        ]);
        t.iface("eth0", &[("uevent", ETH)]);
        assert_eq!(t.current(), NetworkKind::Wired);
    }

    #[test]
    fn cellular_by_devtype_or_modem_name() {
        let t = Tree::new(&[route("usb0", "00000000", "0003", 700)]);
        t.iface("usb0", &[("uevent", "DEVTYPE=wwan\nINTERFACE=usb0\n")]);
        assert_eq!(t.current(), NetworkKind::Cellular);

        // By name alone: no uevent needed.
        let t = Tree::new(&[route("rmnet_data0", "00000000", "0003", 0)]);
        t.iface("rmnet_data0", &[]);
        assert_eq!(t.current(), NetworkKind::Cellular);
        let t = Tree::new(&[route("wwp0s20f0u6", "00000000", "0003", 0)]);
        assert_eq!(t.current(), NetworkKind::Cellular);
        // A USB link the kernel does not mark as a modem.
        let t = Tree::new(&[route("usb0", "00000000", "0003", 0)]);
        t.iface("usb0", &[("uevent", "DEVTYPE=gadget\nINTERFACE=usb0\n")]);
        assert_eq!(t.current(), NetworkKind::Wired);
    }

    #[test]
    fn offline_without_a_usable_default_route() {
        // Only a local route.
        let t = Tree::new(&[route("eth0", "0002A8C0", "0001", 0)]);
        t.iface("eth0", &[("uevent", ETH)]);
        assert_eq!(t.current(), NetworkKind::Offline);
        // A default route that is down.
        let t = Tree::new(&[route("eth0", "00000000", "0002", 0)]);
        t.iface("eth0", &[("uevent", ETH)]);
        assert_eq!(t.current(), NetworkKind::Offline);
        // An empty table.
        assert_eq!(Tree::new(&[]).current(), NetworkKind::Offline);
    }

    #[test]
    fn unknown_when_files_are_missing_or_unreadable() {
        let missing = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            SysfsNetwork::at(missing.path()).current(),
            NetworkKind::Unknown
        );
        // A default route through an interface sysfs does not know.
        let t = Tree::new(&[route("eth0", "00000000", "0003", 0)]);
        assert_eq!(t.current(), NetworkKind::Unknown);
    }

    #[test]
    fn the_default_route_with_the_lowest_metric_wins() {
        let t = Tree::new(&[
            route("eth0", "00000000", "0003", 100),
            route("wlan0", "00000000", "0003", 600),
        ]);
        t.iface("eth0", &[("uevent", ETH)]);
        t.iface("wlan0", &[("wireless/", "")]);
        assert_eq!(t.current(), NetworkKind::Wired);

        let t = Tree::new(&[
            route("wwan0", "00000000", "0003", 700),
            route("wlan0", "00000000", "0003", 600),
        ]);
        t.iface("wwan0", &[]);
        t.iface("wlan0", &[("wireless/", "")]);
        assert_eq!(t.current(), NetworkKind::Wifi);
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let t = Tree::new(&["nonsense\n".into(), route("eth0", "00000000", "0003", 0)]);
        t.iface("eth0", &[("uevent", ETH)]);
        assert_eq!(t.current(), NetworkKind::Wired);
    }

    #[rstest]
    #[case(false, NetworkKind::Unknown, true)]
    #[case(false, NetworkKind::Offline, true)]
    #[case(false, NetworkKind::Wifi, true)]
    #[case(false, NetworkKind::Wired, true)]
    #[case(false, NetworkKind::Cellular, true)]
    #[case(true, NetworkKind::Unknown, true)]
    #[case(true, NetworkKind::Offline, true)]
    #[case(true, NetworkKind::Wifi, true)]
    #[case(true, NetworkKind::Wired, true)]
    #[case(true, NetworkKind::Cellular, false)]
    fn policy(#[case] wifi_only: bool, #[case] net: NetworkKind, #[case] allowed: bool) {
        assert_eq!(sync_allowed(wifi_only, net), allowed);
    }

    #[test]
    fn shared_network_clones_share_one_kind() {
        let a = SharedNetwork::new(NetworkKind::Unknown);
        let b = a.clone();
        for kind in NetworkKind::ALL {
            a.set(kind);
            assert_eq!(b.current(), kind);
        }
    }

    #[test]
    fn a_reported_kind_wins_over_the_fallback_unless_unknown() {
        let reported = SharedNetwork::new(NetworkKind::Unknown);
        let fallback = SharedNetwork::new(NetworkKind::Wired);
        let m = ReportedOr {
            reported: reported.clone(),
            fallback: Arc::new(fallback.clone()),
        };
        assert_eq!(m.current(), NetworkKind::Wired);
        for kind in NetworkKind::ALL {
            reported.set(kind);
            let want = if kind == NetworkKind::Unknown {
                NetworkKind::Wired
            } else {
                kind
            };
            assert_eq!(m.current(), want, "{kind:?}");
        }
    }

    #[test]
    fn kinds_serialise_in_kebab_case() {
        assert_eq!(
            serde_json::to_string(&NetworkKind::Cellular).expect("json"),
            "\"cellular\""
        );
    }
}
