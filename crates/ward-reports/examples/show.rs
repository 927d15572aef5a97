//! Print each report found in the files named on the command line as JSON.
fn main() {
    let limits = ward_reports::Limits::default();
    for path in std::env::args().skip(1) {
        let Ok(bytes) = std::fs::read(&path) else {
            println!("{path}: unreadable");
            continue;
        };
        ward_reports::unpack::unpack(&path, &bytes, &limits, &mut |r| match r {
            Ok(u) => println!("{}", serde_json::to_string_pretty(&u).unwrap_or_default()),
            Err(e) => println!("ERR {e}"),
        });
    }
}
