//! The libpq options tokio-postgres' parser does not know (it refuses unknown keys), taken out
//! of a connection string before it parses the rest: `sslrootcert`, and `sslmode`'s
//! `verify-ca`/`verify-full` values. Both forms are read the way tokio-postgres reads them: a
//! URL's query (`?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem`, percent-decoded) and
//! key=value pairs (`sslrootcert='/my dir/ca.pem'`, quoted with `'`, `\` escaping).

use percent_encoding::percent_decode_str;

/// Removes every `key` from `dsn`: returns the string without it and the last value given.
pub(crate) fn take(dsn: &str, key: &str) -> (String, Option<String>) {
    match url_query(dsn) {
        Some((head, query)) => take_from_query(head, query, key),
        None => take_from_pairs(dsn, key),
    }
}

/// A URL split at its query: (everything up to and including `?`, the query).
fn url_query(dsn: &str) -> Option<(&str, &str)> {
    let rest = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|p| dsn.strip_prefix(p))?;
    let start = dsn.len() - rest.len();
    Some(match rest.find('?') {
        Some(q) => dsn.split_at(start + q + 1),
        None => (dsn, ""),
    })
}

fn take_from_query(head: &str, query: &str, key: &str) -> (String, Option<String>) {
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if percent_decode_str(k).decode_utf8_lossy() == key {
                value = Some(percent_decode_str(v).decode_utf8_lossy().into_owned());
                false
            } else {
                true
            }
        })
        .collect();
    let mut out = head.to_owned();
    if kept.iter().all(|p| p.is_empty()) {
        // No query, or one that had only `key`: drop its `?`.
        if out.ends_with('?') {
            out.pop();
        }
    } else {
        out.push_str(&kept.join("&"));
    }
    (out, value)
}

fn take_from_pairs(dsn: &str, key: &str) -> (String, Option<String>) {
    let mut out = String::with_capacity(dsn.len());
    let mut value = None;
    let mut rest = dsn;
    while let Some(pair) = next_pair(rest) {
        if pair.key == key {
            value = Some(pair.value);
        } else {
            out.push_str(&rest[..pair.end]);
        }
        rest = &rest[pair.end..];
    }
    out.push_str(rest);
    (out, value)
}

/// One `key = value` of a key=value string: where it ends in the input and its unquoted value.
struct Pair<'a> {
    end: usize,
    key: &'a str,
    value: String,
}

/// The next pair of `s`, or `None` at its end or where it does not parse (tokio-postgres then
/// reports the error).
fn next_pair(s: &str) -> Option<Pair<'_>> {
    let start = s.len() - s.trim_start().len();
    let key_len = s[start..].find(|c: char| c.is_whitespace() || c == '=')?;
    let key = &s[start..start + key_len];
    let after_key = &s[start + key_len..];
    let after_eq = after_key.trim_start().strip_prefix('=')?.trim_start();
    let value_start = s.len() - after_eq.len();
    let (value, len) = read_value(after_eq)?;
    Some(Pair {
        end: value_start + len,
        key,
        value,
    })
}

/// A value, quoted or not, and how many bytes it took.
fn read_value(s: &str) -> Option<(String, usize)> {
    let quoted = s.starts_with('\'');
    let mut value = String::new();
    let mut chars = s.char_indices().skip(usize::from(quoted));
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if quoted => return Some((value, i + 1)),
            c if c.is_whitespace() && !quoted => return Some((value, i)),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    (!quoted).then_some((value, s.len()))
}

#[cfg(test)]
mod tests {
    use super::take;

    #[test]
    fn a_url_option_is_taken_and_decoded() {
        let (rest, v) = take(
            "postgres://u@h/db?sslmode=require&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
            "sslrootcert",
        );
        assert_eq!(rest, "postgres://u@h/db?sslmode=require&application_name=x");
        assert_eq!(v.as_deref(), Some("/etc/ca.pem"));
    }

    #[test]
    fn the_only_url_option_takes_the_question_mark_with_it() {
        let (rest, v) = take("postgresql://h/db?sslrootcert=system", "sslrootcert");
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(v.as_deref(), Some("system"));
        assert_eq!(take("postgres://h/db", "sslrootcert").1, None);
    }

    #[test]
    fn a_quoted_pair_is_taken_and_others_kept() {
        let (rest, v) = take(
            r"host=h sslrootcert = '/my dir/it\'s.pem' password='sslrootcert=no'",
            "sslrootcert",
        );
        assert_eq!(rest, "host=h password='sslrootcert=no'");
        assert_eq!(v.as_deref(), Some("/my dir/it's.pem"));
    }

    #[test]
    fn a_value_inside_another_value_is_not_taken() {
        let dsn = "host=h password='sslmode=verify-full'";
        assert_eq!(take(dsn, "sslmode"), (dsn.to_owned(), None));
    }
}
