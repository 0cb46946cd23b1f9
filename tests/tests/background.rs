//! The background loop the app runs: a sync on start, on demand, and as
//! soon as an unreachable server answers again; held back on mobile data
//! when the leader chose "only on Wi-Fi".

use sotay_device::AppSettings;
use sotay_device::sync::{LoopState, NetworkKind, SharedNetwork, SyncEvent, SyncLoop};
use sotay_e2e::proxy::{Fault, Proxy};
use sotay_e2e::{Device, assert_converged, client};
use sotay_server::testing::{Backend, TestServer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;

/// The next event that is not progress.
async fn next_event(rx: &mut Receiver<SyncEvent>) -> SyncEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an event in time")
            .expect("event");
        if !matches!(ev, SyncEvent::Progress(_)) {
            return ev;
        }
    }
}

async fn next_outcome(rx: &mut Receiver<SyncEvent>) -> SyncEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an event in time")
            .expect("event");
        if matches!(ev, SyncEvent::Finished(_) | SyncEvent::Failed { .. }) {
            return ev;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_on_start_on_demand_and_when_the_server_is_back() {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let proxy = Proxy::start(server.handle.addr.to_string()).await;
    let d = Device::enrolled(&server, &proxy.url, "k01-t01").await;
    d.tip(1);
    let store = d.shared_store();

    let sync_loop = SyncLoop::start(
        store.clone(),
        client(),
        Arc::new(SharedNetwork::new(NetworkKind::Unknown)),
        Duration::from_secs(3600),
        Duration::from_millis(100),
    );
    let mut rx = sync_loop.subscribe();
    // On start.
    assert!(matches!(next_outcome(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));

    // On demand, with the server unreachable: the loop goes offline…
    proxy.set(Fault::CutAfter(0));
    d.tip(2);
    sync_loop.sync_now();
    assert!(
        matches!(next_outcome(&mut rx).await, SyncEvent::Failed { code, .. } if code.as_str() == "network")
    );
    assert_eq!(sync_loop.state(), LoopState::Offline);
    // …and syncs by itself once the server answers again.
    proxy.set(Fault::None);
    assert!(matches!(next_outcome(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));
    assert_eq!(sync_loop.state(), LoopState::Idle);
    sync_loop.stop().await;
    assert_converged(&d, server.store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_on_wifi_holds_syncs_back_on_mobile_data() {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let d = Device::enrolled(&server, &server.url(), "k01-t01").await;
    let wifi_only = |on: bool| {
        d.store()
            .save_settings(&AppSettings {
                wifi_only: on,
                ..AppSettings::default()
            })
            .expect("settings");
    };
    let on_server = || async {
        server
            .store()
            .export(&sotay_server::store::Scope::Province, None)
            .await
            .expect("export")
            .len()
    };
    // A few probe periods: long enough for the loop to have synced, had it
    // been going to.
    let a_while = || tokio::time::sleep(Duration::from_millis(400));
    wifi_only(true);
    d.tip(1);
    d.tip(2);
    let net = SharedNetwork::new(NetworkKind::Cellular);
    let store = d.shared_store();
    let sync_loop = SyncLoop::start(
        store,
        client(),
        Arc::new(net.clone()),
        Duration::from_secs(3600),
        Duration::from_millis(50),
    );
    let mut rx = sync_loop.subscribe();

    // On start, on mobile data: it waits, says so once, and sends nothing.
    assert_eq!(
        next_event(&mut rx).await,
        SyncEvent::WaitingForNetwork {
            network: NetworkKind::Cellular
        }
    );
    assert_eq!(sync_loop.state(), LoopState::WaitingForWifi);
    assert_eq!(sync_loop.network(), NetworkKind::Cellular);
    a_while().await;
    assert!(
        matches!(rx.try_recv(), Err(TryRecvError::Empty)),
        "rechecks are silent"
    );
    assert_eq!(on_server().await, 0);

    // "Đồng bộ ngay" still waits: the answer is the waiting event, not a sync.
    sync_loop.sync_now();
    assert_eq!(
        next_event(&mut rx).await,
        SyncEvent::WaitingForNetwork {
            network: NetworkKind::Cellular
        }
    );
    assert_eq!(sync_loop.state(), LoopState::WaitingForWifi);
    assert_eq!(on_server().await, 0);

    // "Gửi bằng dữ liệu di động lần này": exactly one sync, then back to waiting.
    sync_loop.sync_now_any_network();
    assert_eq!(next_event(&mut rx).await, SyncEvent::Started);
    assert!(matches!(next_event(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 2));
    assert_eq!(
        next_event(&mut rx).await,
        SyncEvent::WaitingForNetwork {
            network: NetworkKind::Cellular
        }
    );
    assert_eq!(sync_loop.state(), LoopState::WaitingForWifi);
    assert_eq!(on_server().await, 2);

    // A report queued meanwhile waits…
    d.tip(3);
    a_while().await;
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    assert_eq!(on_server().await, 2);
    // …and flows by itself on Wi-Fi.
    net.set(NetworkKind::Wifi);
    assert_eq!(next_event(&mut rx).await, SyncEvent::Started);
    assert!(matches!(next_event(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));
    assert_eq!(sync_loop.state(), LoopState::Idle);
    assert_eq!(on_server().await, 3);

    // With the setting off, mobile data is as good as any network.
    net.set(NetworkKind::Cellular);
    wifi_only(false);
    d.tip(4);
    sync_loop.sync_now();
    assert_eq!(next_event(&mut rx).await, SyncEvent::Started);
    assert!(matches!(next_event(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));
    assert_eq!(sync_loop.state(), LoopState::Idle);
    sync_loop.stop().await;
    assert_converged(&d, server.store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_data_syncs_on_start_when_wifi_only_is_off() {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite");
    let d = Device::enrolled(&server, &server.url(), "k01-t01").await;
    d.tip(1);
    let store = d.shared_store();
    let sync_loop = SyncLoop::start(
        store,
        client(),
        Arc::new(SharedNetwork::new(NetworkKind::Cellular)),
        Duration::from_secs(3600),
        Duration::from_millis(50),
    );
    let mut rx = sync_loop.subscribe();
    assert!(matches!(next_outcome(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));
    sync_loop.stop().await;
    assert_converged(&d, server.store()).await;
}
