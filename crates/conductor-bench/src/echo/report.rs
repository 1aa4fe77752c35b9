//! The Markdown output: the figures, their ratios to tokio, the targets (against uvloop
//! and the C floor), and how the per-core row spread its connections over its loops.

/// What one cell measured of one server.
#[derive(Default, Clone)]
pub struct Cell {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub user_us: f64,
    pub sys_us: f64,
    pub syscalls: Option<f64>,
    /// Connections each loop accepted during the cell (empty for single-loop servers).
    pub loops: Vec<u64>,
}

impl Cell {
    fn total_us(&self) -> f64 {
        self.user_us + self.sys_us
    }
}

/// One server's results.
pub struct Row {
    pub name: String,
    pub cells: Vec<Cell>,
    /// Resident bytes per idle connection.
    pub memory: f64,
    /// Idle connections each loop accepted (empty for single-loop servers).
    pub idle_loops: Vec<u64>,
}

/// Prints every table; `cells` names the cells' (connections, message size).
pub fn print(rows: &[Row], cells: &[(usize, usize)], idle: usize) {
    let label = |i: usize| cell_label(cells[i]);
    println!(
        "\n| cell | runtime | req/s | p50 us | p99 us | user us/req | sys us/req | total us/req | syscalls/req |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for i in 0..cells.len() {
        for r in rows {
            let c = &r.cells[i];
            println!(
                "| {} | {} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} |",
                label(i),
                r.name,
                c.rps,
                c.p50_us,
                c.p99_us,
                c.user_us,
                c.sys_us,
                c.total_us(),
                c.syscalls.map_or("—".into(), |s| format!("{s:.2}")),
            );
        }
    }
    for r in rows.iter().filter(|r| !r.cells[0].loops.is_empty()) {
        let shares: Vec<String> = r.cells.iter().map(|c| shares(&c.loops)).collect();
        println!("\n{}: loop shares per cell: {}", r.name, shares.join("; "));
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    if let Some(tokio) = find("tokio") {
        print_ratios(rows, tokio, &label, cells.len());
    }
    print_targets(rows, &find, &label, cells.len());
    let tmem = find("tokio").map_or(f64::NAN, |t| t.memory);
    println!("\n| idle connections ({idle}) | resident bytes per connection | ratio to tokio |");
    println!("|---|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} | {} |",
            r.name,
            r.memory,
            ratio(r.memory, tmem)
        );
    }
    for r in rows.iter().filter(|r| !r.idle_loops.is_empty()) {
        println!(
            "\n{}: loop shares of the {idle} idle connections: {}",
            r.name,
            shares(&r.idle_loops)
        );
    }
}

/// `a / b` as "1.23x", or "—" when there is nothing to compare against (a missing row, or a
/// figure of 0: user time below the resolution of the kernel's tick sampling).
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r.is_finite() {
        format!("{r:.2}x")
    } else {
        "—".into()
    }
}

/// "48% / 52% (48 / 52)".
fn shares(counts: &[u64]) -> String {
    let total = counts.iter().sum::<u64>().max(1) as f64;
    let pct: Vec<String> = counts
        .iter()
        .map(|&n| format!("{:.0}%", n as f64 * 100.0 / total))
        .collect();
    let raw: Vec<String> = counts.iter().map(u64::to_string).collect();
    format!("{} ({})", pct.join(" / "), raw.join(" / "))
}

fn print_ratios(rows: &[Row], tokio: &Row, label: &dyn Fn(usize) -> String, n: usize) {
    println!("\nRatios to tokio (runtime / tokio; for req/s higher is better, elsewhere lower):\n");
    println!("| cell | runtime | req/s | p99 | user CPU | total CPU | syscalls |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for i in 0..n {
        let t = &tokio.cells[i];
        for r in rows {
            let c = &r.cells[i];
            let syscalls = match (c.syscalls, t.syscalls) {
                (Some(a), Some(b)) => ratio(a, b),
                _ => "—".into(),
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {syscalls} |",
                label(i),
                r.name,
                ratio(c.rps, t.rps),
                ratio(c.p99_us, t.p99_us),
                ratio(c.user_us, t.user_us),
                ratio(c.total_us(), t.total_us()),
            );
        }
    }
}

/// The targets: req/s against uvloop (at least 2x), user CPU per request against the
/// C floor (approaching 1x), and the per-core row's CPU per request against the same handler
/// on one loop (conductor-streams; within 1.1x).
fn print_targets<'a>(
    rows: &'a [Row],
    find: &dyn Fn(&str) -> Option<&'a Row>,
    label: &dyn Fn(usize) -> String,
    n: usize,
) {
    let (uvloop, floor) = (find("uvloop"), find("c-floor"));
    if uvloop.is_none() && floor.is_none() {
        return;
    }
    println!(
        "\nTargets: req/s / uvloop's (goal: at least 2x); user and total CPU per request / the C floor's (goal: approaching 1x):\n"
    );
    println!("| cell | runtime | req/s / uvloop | user CPU / c-floor | total CPU / c-floor |");
    println!("|---|---|---:|---:|---:|");
    let vs = |a: f64, b: Option<f64>| ratio(a, b.unwrap_or(f64::NAN));
    for i in 0..n {
        for r in rows {
            let c = &r.cells[i];
            println!(
                "| {} | {} | {} | {} | {} |",
                label(i),
                r.name,
                vs(c.rps, uvloop.map(|u| u.cells[i].rps)),
                vs(c.user_us, floor.map(|f| f.cells[i].user_us)),
                vs(c.total_us(), floor.map(|f| f.cells[i].total_us())),
            );
        }
    }
    let (Some(per_core), Some(single)) = (find("conductor-per-core"), find("conductor-streams"))
    else {
        return;
    };
    println!(
        "\nPer-core mode: {} against conductor-streams (the same asyncio-streams handler on one loop; goal: CPU per request within 1.1x, each loop 40 to 60% of the connections):\n",
        per_core.name
    );
    println!("| cell | user CPU | total CPU | req/s | loop shares |");
    println!("|---|---:|---:|---:|---|");
    for i in 0..n {
        let (p, s) = (&per_core.cells[i], &single.cells[i]);
        println!(
            "| {} | {} | {} | {} | {} |",
            label(i),
            ratio(p.user_us, s.user_us),
            ratio(p.total_us(), s.total_us()),
            ratio(p.rps, s.rps),
            shares(&p.loops),
        );
    }
}

/// The `--instructions` table: each Rust server's user-space instructions per request, with
/// its ratio to tokio's and to the C floor's (`None`: the count failed, shown as "—").
pub fn print_instructions(rows: &[(String, Vec<Option<f64>>)], cells: &[(usize, usize)]) {
    let find = |name: &str| rows.iter().find(|(n, _)| n == name).map(|(_, c)| c);
    let (tokio, floor) = (find("tokio"), find("c-floor"));
    println!("\n| cell | runtime | instructions/req | / tokio | / c-floor |");
    println!("|---|---|---:|---:|---:|");
    for (i, &cell) in cells.iter().enumerate() {
        for (name, counts) in rows {
            let n = counts[i].unwrap_or(f64::NAN);
            let vs = |base: Option<&Vec<Option<f64>>>| {
                ratio(n, base.and_then(|b| b[i]).unwrap_or(f64::NAN))
            };
            let count = if n.is_finite() {
                format!("{n:.0}")
            } else {
                "—".into()
            };
            println!(
                "| {} | {name} | {count} | {} | {} |",
                cell_label(cell),
                vs(tokio),
                vs(floor),
            );
        }
    }
}

/// "10 conns, 1 KiB".
fn cell_label((conns, size): (usize, usize)) -> String {
    format!("{conns} conns, {} KiB", size / 1024)
}
