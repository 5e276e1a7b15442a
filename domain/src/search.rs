//! Text search on tickets: `GET /v1/tickets?q=停电` (issue 9, point 3; DESIGN.md sections 7
//! and 9). A ticket matches when its title or its description contains the query, case
//! folded; the database finds the candidates through an index of character BIGRAMS and
//! then checks the substring itself, so the answer is exact.
//!
//! Why bigrams and not trigrams: Chinese has no spaces and most of its words are two
//! characters (停电, 用地, 融资). A trigram index extracts nothing from a two-character
//! query (`pg_trgm` then rechecks every row; FTS5's trigram tokenizer cannot use its index
//! below three characters). Bigrams, as pg_bigm does for CJK text, cover those words.
//!
//! The grams are computed here, once, by the same code for both backends:
//! - [`fold`]: lowercase, character by character (so folding a substring gives a
//!   substring of the folded text);
//! - split the folded text into runs of letters and digits (`char::is_alphanumeric`),
//!   dropping punctuation and spaces;
//! - each run's overlapping two-character grams; a run of one character gives that one.
//!
//! A query's grams ([`SearchQuery::grams`]) are the bigrams of its runs, plus the single
//! characters that stand alone inside it (spaces or punctuation on both sides); a
//! character alone at either end of the query may be the edge of a longer run in the
//! text, so it requires nothing. Every substring of a ticket's text therefore has all its
//! grams among the text's grams (a property test below checks it).

use std::collections::BTreeSet;

use crate::values::ValueError;

/// A query is 2 to 100 characters after trimming.
pub const QUERY_MIN: usize = 2;
pub const QUERY_MAX: usize = 100;

/// The text search compares: each character lowercased on its own (not `str::to_lowercase`,
/// whose final sigma depends on the next character), so `fold(a + b) == fold(a) + fold(b)`.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// The runs of letters and digits of folded text, each with whether it touches the
/// text's start and end.
fn runs(folded: &str) -> Vec<(Vec<char>, bool, bool)> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=chars.len() {
        let alnum = chars.get(i).is_some_and(|c| c.is_alphanumeric());
        match (start, alnum) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((chars[s..i].to_vec(), s == 0, i == chars.len()));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn bigrams(run: &[char], into: &mut BTreeSet<String>) {
    for pair in run.windows(2) {
        into.insert(pair.iter().collect());
    }
}

/// The grams of one text (a title or a description), distinct and sorted.
pub fn grams(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (run, _, _) in runs(&fold(text)) {
        if run.len() == 1 {
            out.insert(run.iter().collect());
        } else {
            bigrams(&run, &mut out);
        }
    }
    out
}

/// What a ticket's search row holds: the folded title and description, one line break
/// between them (a query holds no control character, so no match spans the two), and the
/// grams of each, never a gram across the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indexed {
    pub folded: String,
    pub grams: Vec<String>,
}

pub fn index(title: &str, description: &str) -> Indexed {
    let mut all = grams(title);
    all.extend(grams(description));
    Indexed {
        folded: format!("{}\n{}", fold(title), fold(description)),
        grams: all.into_iter().collect(),
    }
}

/// A parsed `q`: its folded text, which a ticket's folded title or description must
/// contain, and the grams that every such ticket has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    folded: String,
    grams: Vec<String>,
}

impl SearchQuery {
    /// Refuses control characters; trims; refuses fewer than [`QUERY_MIN`] or more than
    /// [`QUERY_MAX`] characters, and a query with no grams, i.e. without two letters or
    /// digits side by side or one standing alone inside it (`a b`, `%_`): the index could
    /// not narrow it, and scanning every ticket is what it exists to avoid.
    pub fn parse(raw: &str) -> Result<SearchQuery, ValueError> {
        if raw.chars().any(char::is_control) {
            return Err(ValueError::ControlCharacter { multiline: false });
        }
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars < QUERY_MIN {
            return Err(ValueError::TooShort { min: QUERY_MIN });
        }
        if chars > QUERY_MAX {
            return Err(ValueError::TooLong { max: QUERY_MAX });
        }
        let folded = fold(trimmed);
        let mut grams = BTreeSet::new();
        for (run, at_start, at_end) in runs(&folded) {
            if run.len() >= 2 {
                bigrams(&run, &mut grams);
            } else if !at_start && !at_end {
                grams.insert(run.iter().collect());
            }
        }
        if grams.is_empty() {
            return Err(ValueError::Invalid(
                "must hold two letters or digits side by side (停电, ab, 12), or one standing \
                 alone between spaces or punctuation inside it (the b of a b c)",
            ));
        }
        Ok(SearchQuery {
            folded,
            grams: grams.into_iter().collect(),
        })
    }

    /// The folded query, which the folded title or description contains.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Grams every matching ticket has: never empty.
    pub fn grams(&self) -> &[String] {
        &self.grams
    }

    /// Whether the grams alone may let through a ticket that does not match. A query of
    /// exactly two letters or digits (停电, the common case) is one bigram, and a text
    /// has that bigram exactly when it contains the query: no recheck needed.
    pub fn needs_recheck(&self) -> bool {
        let mut chars = self.folded.chars();
        !matches!(
            (chars.next(), chars.next(), chars.next()),
            (Some(a), Some(b), None) if a.is_alphanumeric() && b.is_alphanumeric()
        )
    }
}

impl std::str::FromStr for SearchQuery {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<SearchQuery, ValueError> {
        SearchQuery::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_text_gives_overlapping_bigrams_without_punctuation() {
        assert_eq!(
            grams("厂区停电，影响生产"),
            set(&["厂区", "区停", "停电", "影响", "响生", "生产"])
        );
        assert_eq!(grams("停"), set(&["停"]));
        assert_eq!(grams("A-1 路"), set(&["a", "1", "路"]));
        assert_eq!(grams("ABC"), set(&["ab", "bc"]));
        assert_eq!(grams("，。 "), set(&[]));
    }

    #[test]
    fn a_ticket_has_no_gram_across_title_and_description() {
        let i = index("停电", "影响生产");
        assert_eq!(i.folded, "停电\n影响生产");
        assert!(!i.grams.contains(&"电影".to_string()), "{:?}", i.grams);
        assert_eq!(i.grams.len(), 4);
    }

    #[test]
    fn queries_need_two_characters_and_something_to_look_up() {
        let q = SearchQuery::parse(" 停电 ").unwrap();
        assert_eq!(q.folded(), "停电");
        assert_eq!(q.grams(), ["停电"]);
        assert_eq!(
            SearchQuery::parse("ABc").unwrap().grams(),
            ["ab".to_string(), "bc".to_string()]
        );
        // "b" stands alone inside the query; "a" and "c" may be parts of longer runs.
        assert_eq!(SearchQuery::parse("a b c").unwrap().grams(), ["b"]);
        assert_eq!(SearchQuery::parse("50%_x").unwrap().grams(), ["50"]);
        assert_eq!(
            SearchQuery::parse("停").unwrap_err(),
            ValueError::TooShort { min: 2 }
        );
        assert_eq!(
            SearchQuery::parse("  停  ").unwrap_err(),
            ValueError::TooShort { min: 2 }
        );
        assert_eq!(
            SearchQuery::parse(&"停".repeat(101)).unwrap_err(),
            ValueError::TooLong { max: 100 }
        );
        assert!(SearchQuery::parse(&"停".repeat(100)).is_ok());
        assert_eq!(
            SearchQuery::parse("停\u{0}电").unwrap_err().code(),
            "control_character"
        );
        assert_eq!(
            SearchQuery::parse("停电\n").unwrap_err().code(),
            "control_character"
        );
        assert_eq!(SearchQuery::parse("a b").unwrap_err().code(), "invalid");
        assert!(!SearchQuery::parse("停电").unwrap().needs_recheck());
        assert!(!SearchQuery::parse(" AB ").unwrap().needs_recheck());
        for q in ["停电了", "a b c", "50%", "ab,"] {
            assert!(SearchQuery::parse(q).unwrap().needs_recheck(), "{q}");
        }
        assert_eq!(SearchQuery::parse("%_").unwrap_err().code(), "invalid");
    }

    #[test]
    fn folding_is_per_character() {
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
        assert_eq!(fold("İ"), "i\u{307}");
        assert_eq!(fold("Straße ÉTÉ"), "straße été");
    }

    /// Text mixing what tickets hold: Chinese, Latin letters of both cases and with
    /// accents, digits, letters whose lowercase is longer or context-dependent,
    /// punctuation and spaces.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(character(), 0..40).prop_map(|chars| chars.into_iter().collect())
    }

    fn character() -> impl Strategy<Value = char> {
        prop_oneof![
            proptest::sample::select(vec!['停', '电', '用', '地', '融', '资', '厂']),
            proptest::sample::select(vec!['A', 'b', 'É', 'é', 'İ', 'Σ', 'ß', 'K', '\u{212A}']),
            proptest::sample::select(vec!['1', '２', '0']),
            proptest::sample::select(vec![' ', '，', '%', '_', '-', '\u{307}', '\n']),
        ]
    }

    proptest! {
        /// The index never misses: every substring of a text that parses as a query has
        /// all its grams among the text's grams, and its folded form inside the folded text.
        #[test]
        fn every_substring_finds_its_text(t in text(), a in 0usize..40, len in 2usize..40) {
            let chars: Vec<char> = t.chars().collect();
            let start = a.min(chars.len());
            let end = (start + len).min(chars.len());
            let sub: String = chars[start..end].iter().collect();
            if let Ok(q) = SearchQuery::parse(&sub) {
                let have = grams(&t);
                for g in q.grams() {
                    prop_assert!(have.contains(g), "{g:?} of {sub:?} not in {have:?}");
                }
                let i = index(&t, "x");
                prop_assert!(i.folded.contains(q.folded()));
                prop_assert!(index("x", &t).folded.contains(q.folded()));
            }
        }

        /// Where no recheck is needed, the grams decide exactly: a text has the query's
        /// one bigram if and only if its folded form contains the query.
        #[test]
        fn a_bigram_query_needs_no_recheck(t in text(), a in character(), b in character()) {
            if let Ok(q) = SearchQuery::parse(&format!("{a}{b}"))
                && !q.needs_recheck()
            {
                let i = index(&t, "x");
                prop_assert_eq!(
                    q.grams().iter().all(|g| i.grams.contains(g)),
                    fold(&t).contains(q.folded()),
                    "{:?} in {:?}", q, t
                );
            }
        }

        #[test]
        fn folding_a_concatenation_concatenates_the_folds(a in text(), b in text()) {
            prop_assert_eq!(fold(&format!("{a}{b}")), format!("{}{}", fold(&a), fold(&b)));
        }

        /// Grams are one or two letters or digits, lowercase already, and a ticket's are
        /// exactly its title's and its description's.
        #[test]
        fn grams_are_short_and_per_field(title in text(), description in text()) {
            let i = index(&title, &description);
            let mut expected = grams(&title);
            expected.extend(grams(&description));
            prop_assert_eq!(i.grams.iter().cloned().collect::<BTreeSet<_>>(), expected);
            for g in &i.grams {
                let n = g.chars().count();
                prop_assert!(n == 1 || n == 2, "{g:?}");
                prop_assert!(g.chars().all(char::is_alphanumeric), "{g:?}");
                prop_assert_eq!(&fold(g), g);
            }
        }
    }
}
