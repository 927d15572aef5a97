//! Flesch reading ease, so the `small` advice stays readable by a volunteer.
//!
//! Score = 206.835 − 1.015 × (words ÷ sentences) − 84.6 × (syllables ÷ words). Sixty and
//! above is plain English; thirty and below reads like a legal contract. Syllables are
//! counted by rule, not by dictionary: groups of vowels, less a silent final `e`. The rule
//! miscounts some words by one, which moves a paragraph's score by a point or two at most.
//!
//! A sentence ends at `.`, `!`, `?`, `:` followed by white space, or at a line break, so each
//! step in a numbered list counts as its own sentence, as a reader takes it. A word is a run
//! of non-space characters holding at least one letter; numbers and bullets are not words.

/// Counts the syllables of one word by rule.
pub fn syllables(word: &str) -> usize {
    let letters: Vec<char> = word
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if letters.is_empty() {
        return 0;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut count = 0;
    let mut prev = false;
    for (i, &c) in letters.iter().enumerate() {
        // A leading `y` is a consonant ("yes"); elsewhere it sounds as a vowel.
        let v = vowel(c) && !(c == 'y' && i == 0);
        if v && !prev {
            count += 1;
        }
        prev = v;
    }
    let n = letters.len();
    // A silent final `e` ("make", "site"), but not in "-le" after a consonant ("table").
    if n > 2 && letters[n - 1] == 'e' && !vowel(letters[n - 2]) {
        let le = letters[n - 2] == 'l' && !vowel(letters[n - 3]);
        if !le {
            count -= usize::from(count > 1);
        }
    }
    // "-ed" after anything but `t` or `d` adds no syllable ("turned", "signed").
    if n > 3 && letters[n - 2] == 'e' && letters[n - 1] == 'd' {
        let before = letters[n - 3];
        if !vowel(before) && before != 't' && before != 'd' {
            count -= usize::from(count > 1);
        }
    }
    count.max(1)
}

/// The counts the score is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCounts {
    /// Sentences (at least one when there is any word).
    pub sentences: usize,
    /// Words.
    pub words: usize,
    /// Syllables over all words.
    pub syllables: usize,
}

/// Counts sentences, words and syllables in `text`.
pub fn counts(text: &str) -> TextCounts {
    let mut sentences = 0;
    let mut words = 0;
    let mut syl = 0;
    for line in text.lines() {
        let mut open = false;
        for token in line.split_whitespace() {
            if token.chars().any(|c| c.is_alphabetic()) {
                words += 1;
                syl += syllables(token);
                open = true;
            }
            if open && token.ends_with(['.', '!', '?', ':']) {
                sentences += 1;
                open = false;
            }
        }
        if open {
            sentences += 1;
        }
    }
    TextCounts {
        sentences,
        words,
        syllables: syl,
    }
}

/// The Flesch reading-ease score of `text`, or `None` when it has no words.
pub fn flesch(text: &str) -> Option<f64> {
    let c = counts(text);
    if c.words == 0 {
        return None;
    }
    let words = c.words as f64;
    Some(206.835 - 1.015 * (words / c.sentences as f64) - 84.6 * (c.syllables as f64 / words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_of_known_words() {
        let cases = [
            ("cat", 1),
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("every", 3),
            ("password", 2),
            ("provider", 3),
            ("readability", 5),
            ("yes", 1),
            ("turned", 1),
            ("wanted", 2),
            ("domain", 2),
            ("DMARC", 1),
            ("v=spf1", 1),
            ("2048", 0),
        ];
        for (word, want) in cases {
            assert_eq!(syllables(word), want, "{word}");
        }
    }

    #[test]
    fn counts_split_sentences_and_lines() {
        assert_eq!(
            counts("The cat sat on the mat. It was warm!\n1. Ask them\n"),
            TextCounts {
                sentences: 3,
                words: 11,
                syllables: 11
            }
        );
    }

    #[test]
    fn scores_of_known_sentences() {
        // 6 words, 6 syllables, 1 sentence: 206.835 - 1.015*6 - 84.6*1.
        let cat = flesch("The cat sat on the mat.").unwrap();
        assert!((cat - 116.145).abs() < 1e-9, "{cat}");
        // 4 words (organisation 5, readability 5, demands 2, consideration 5 = 17
        // syllables), one sentence: 206.835 - 1.015*4 - 84.6*17/4 = -156.775.
        let hard = flesch("Organisation readability demands consideration.").unwrap();
        assert!((hard - -156.775).abs() < 1e-9, "{hard}");
        assert_eq!(flesch("1. 2. 3."), None);
    }
}
