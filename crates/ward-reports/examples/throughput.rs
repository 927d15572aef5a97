//! Rough throughput check: unpack the files named on the command line
//! `WARD_ROUNDS` times (default 50) and print reports per second, input
//! megabytes per second and peak resident memory.
fn main() {
    let rounds: u32 = std::env::var("WARD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let limits = ward_reports::Limits::default();
    let files: Vec<(String, Vec<u8>)> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let (mut reports, mut records, mut errors) = (0u64, 0u64, 0u64);
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        for (name, b) in &files {
            ward_reports::unpack::unpack(name, b, &limits, &mut |r| match r {
                Ok(u) => {
                    reports += 1;
                    if let ward_reports::Report::Aggregate(a) = &u.report {
                        records += a.records.len() as u64;
                    }
                }
                Err(_) => errors += 1,
            });
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    println!(
        "{rounds} rounds of {} files ({bytes} bytes): {reports} reports, {records} records, {errors} refusals in {secs:.2}s = {:.0} reports/s, {:.1} MB/s input; {peak}",
        files.len(),
        reports as f64 / secs,
        (bytes as f64 * f64::from(rounds)) / secs / 1e6
    );
}
