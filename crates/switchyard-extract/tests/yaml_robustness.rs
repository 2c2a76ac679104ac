//! The YAML reader on arbitrary text made of YAML's punctuation: it never panics, every
//! document is read or an error, and every span lies in the text on char boundaries (the
//! whitespace padding it may parse with must never leak into spans).

use proptest::prelude::*;
use switchyard_extract::yaml::{self, Node, Value};

fn check_spans(node: &Node, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(node.start <= node.end && node.end <= text.len(), "{node:?}");
    prop_assert!(text.is_char_boundary(node.start) && text.is_char_boundary(node.end));
    match &node.value {
        Value::Scalar { .. } => {}
        Value::Seq(items) => {
            for item in items {
                check_spans(item, text)?;
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                check_spans(k, text)?;
                check_spans(v, text)?;
            }
        }
    }
    Ok(())
}

/// Lines of YAML-ish tokens: indentation, tabs, flow indicators, quotes, comments, markers.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a", "b: ", "- ", ": ", "[", "]", "{", "}", ", ", "\"", "'", "# c", "#", "\t", "  ", " ",
        "|", ">-", "&x ", "*x", "<<: ", "? ", "!t ", "---", "...", "é", "\\", "\r", "0x1F", "yes",
    ]);
    prop::collection::vec(prop::collection::vec(token, 0..8), 0..10).prop_map(|lines| {
        lines
            .into_iter()
            .map(|l| l.concat())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_and_spans_stay_in_the_text(text in yamlish()) {
        let stream = yaml::parse_stream(&text);
        for doc in &stream.documents {
            match doc {
                Ok(node) => check_spans(node, &text)?,
                Err(e) => prop_assert!(e.offset() <= text.len(), "{e:?}"),
            }
        }
        for w in &stream.warnings {
            prop_assert!(w.offset <= text.len());
        }
    }
}
