//! The background loop the app runs: a sync on start, on demand, and as
//! soon as an unreachable server answers again.

use sotay_device::sync::{LoopState, SyncEvent, SyncLoop};
use sotay_e2e::proxy::{Fault, Proxy};
use sotay_e2e::{Device, assert_converged, client};
use sotay_server::testing::{Backend, TestServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

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
    let code = server.enroll_code("k01-t01").await.expect("code");
    let d = Device::new();
    client()
        .enroll(&d.store, &proxy.url, &code, "loop")
        .await
        .expect("enroll");
    d.tip(1);
    let store = Arc::new(Mutex::new(
        sotay_device::Store::open_dir(d.dir.path()).expect("store"),
    ));

    let sync_loop = SyncLoop::start(
        store.clone(),
        client(),
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
        matches!(next_outcome(&mut rx).await, SyncEvent::Failed { code, .. } if code == "network")
    );
    assert_eq!(sync_loop.state(), LoopState::Offline);
    // …and syncs by itself once the server answers again.
    proxy.set(Fault::None);
    assert!(matches!(next_outcome(&mut rx).await, SyncEvent::Finished(r) if r.accepted == 1));
    assert_eq!(sync_loop.state(), LoopState::Idle);
    sync_loop.stop().await;
    assert_converged(&d, server.store()).await;
}
