//! Print what `unpack` makes of each file named on the command line.
fn main() {
    let limits = ward_reports::Limits::default();
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        ward_reports::unpack::unpack(&path, &bytes, &limits, &mut |r| match r {
            Ok(u) => println!("OK {} {:?}", u.source, u.report.key()),
            Err(e) => println!("ERR {e}"),
        });
    }
}
