//! The test outcomes in a JUnit file as cargo-nextest writes it: which tests passed and which
//! failed, as `(binary id, test name)` (`classname`, `name`). Only `<testcase>` elements and
//! their `<failure>` and `<error>` children are read; nextest escapes `<` in captured output,
//! so no test's output can pass for an element. The release lane's test-result statement and
//! the soundness bench both read JUnit through here.

/// Tests as `(binary id, test name)`, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub passed: Vec<(String, String)>,
    pub failed: Vec<(String, String)>,
}

/// Reads every `<testcase>` of `text`.
pub fn outcomes(text: &str) -> Outcomes {
    let mut found = Outcomes::default();
    let mut rest = text;
    while let Some(start) = rest.find("<testcase ") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..tag_end];
        let name = (
            attribute(tag, "classname").unwrap_or_default(),
            attribute(tag, "name").unwrap_or_default(),
        );
        let failed = if tag.ends_with('/') {
            false
        } else {
            let body_end = rest.find("</testcase>").unwrap_or(rest.len());
            let body = &rest[tag_end..body_end];
            body.contains("<failure") || body.contains("<error")
        };
        if failed {
            found.failed.push(name);
        } else {
            found.passed.push(name);
        }
        rest = &rest[tag_end..];
    }
    found
}

/// The unescaped value of `name="..."` in a start tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let pattern = format!(" {name}=\"");
    let start = tag.find(&pattern)? + pattern.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_and_failed_tests_are_read_by_binary_and_name() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1">
    <testsuite name="alpha" tests="2">
        <testcase name="tests::doubles" classname="alpha" time="0.1">
            <system-out>output with &lt;failure&gt; in it</system-out>
        </testcase>
        <testcase name="tests::breaks" classname="alpha" time="0.1">
            <failure type="test failure">assertion failed</failure>
        </testcase>
    </testsuite>
    <testsuite name="alpha::smoke" tests="1">
        <testcase name="smoke_&quot;q&quot;" classname="alpha::smoke" time="0.1"/>
    </testsuite>
</testsuites>"#;
        let id = |binary: &str, name: &str| (binary.to_owned(), name.to_owned());
        assert_eq!(
            outcomes(text),
            Outcomes {
                passed: vec![
                    id("alpha", "tests::doubles"),
                    id("alpha::smoke", "smoke_\"q\"")
                ],
                failed: vec![id("alpha", "tests::breaks")],
            }
        );
    }
}
