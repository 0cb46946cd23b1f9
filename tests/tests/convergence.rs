//! Property test: any interleaving of edits, syncs and failures ends, after
//! one clean sync, with the server holding exactly the device's reports,
//! once each, at their newest revisions.

use proptest::prelude::*;
use sotay_device::Save;
use sotay_domain::report::ReportBody;
use sotay_e2e::proxy::{Fault, Proxy};
use sotay_e2e::{Device, assert_converged, client, impatient_client};
use sotay_server::testing::{Backend, TestServer};
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Add,
    Edit(usize),
    Draft,
    Sync,
    SyncCut(usize),
    SyncHeld,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Add),
        2 => (0usize..64).prop_map(Op::Edit),
        1 => Just(Op::Draft),
        2 => Just(Op::Sync),
        2 => (0usize..5000).prop_map(Op::SyncCut),
        1 => Just(Op::SyncHeld),
        1 => Just(Op::Reopen),
    ]
}

async fn run(ops: Vec<Op>) {
    let server = TestServer::start(Backend::Sqlite, Default::default())
        .await
        .expect("server")
        .expect("sqlite is never skipped");
    let proxy = Proxy::start(server.handle.addr.to_string()).await;
    let code = server.enroll_code("k05-t02").await.expect("code");
    let d = Device::new();
    client()
        .enroll(&d.store, &proxy.url, &code, "proptest")
        .await
        .expect("enroll");
    let timeout = Duration::from_millis(200);
    let mut ids = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Add => ids.push(d.tip(n)),
            Op::Edit(i) if !ids.is_empty() => {
                let id = ids[i % ids.len()];
                let mut body = d.store().report(id).expect("report").body;
                if let ReportBody::Tip(t) = &mut body {
                    t.description.push_str(" sửa");
                }
                d.store()
                    .save_report(Some(id), body, Save::Send)
                    .expect("edit");
            }
            Op::Edit(_) => {}
            Op::Draft => {
                let id = d.tip(n);
                let tip = match d.store().report(id).expect("tip").body {
                    ReportBody::Tip(t) => t,
                    _ => unreachable!("tip() writes tips"),
                };
                d.store()
                    .save_report(None, ReportBody::Tip(tip), Save::Draft)
                    .expect("draft");
            }
            Op::Sync => {
                proxy.set(Fault::None);
                let _ = impatient_client(timeout).sync(&d.store, &mut |_| {}).await;
            }
            Op::SyncCut(at) => {
                proxy.set(Fault::CutAfter(at));
                let _ = impatient_client(timeout).sync(&d.store, &mut |_| {}).await;
            }
            Op::SyncHeld => {
                proxy.set(Fault::HoldResponse(timeout * 2));
                let _ = impatient_client(timeout).sync(&d.store, &mut |_| {}).await;
            }
            Op::Reopen => d.reopen(),
        }
    }
    proxy.set(Fault::None);
    client()
        .sync(&d.store, &mut |_| {})
        .await
        .expect("clean sync");
    assert_converged(&d, server.store()).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn any_interleaving_converges(ops in proptest::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run(ops));
    }
}
