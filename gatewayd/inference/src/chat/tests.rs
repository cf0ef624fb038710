use super::*;

const CHATML: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are helpful<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

fn msg(role: &str, content: &str) -> ChatMessage {
    ChatMessage {
        role: role.into(),
        content: content.into(),
    }
}

#[test]
fn chatml_renders_turns_and_the_generation_prompt() {
    let t = ChatTemplate::new(CHATML, "<s>", "</s>").unwrap();
    let text = t.render(&[msg("user", "Hi there")], true).unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn bad_templates_are_refused_and_rendering_is_bounded() {
    assert!(ChatTemplate::new("{% for %}", "", "").is_err());
    let endless =
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
    let err = ChatTemplate::new(endless, "", "").unwrap_err().to_string();
    assert!(err.contains("chat template"), "{err}");
    let raising = "{{ raise_exception('roles must alternate') }}";
    let err = ChatTemplate::new(raising, "", "").unwrap_err().to_string();
    assert!(err.contains("roles must alternate"), "{err}");
}

#[test]
fn a_template_that_alters_content_is_an_error_not_a_silent_loss() {
    let upper = "{% for m in messages %}{{ m['content'] | upper }}{% endfor %}";
    let t = ChatTemplate::new(upper, "", "").unwrap();
    // Upper-casing leaves the placeholder's digits and private-use marks as they were.
    assert_eq!(t.render(&[msg("user", "abc")], false).unwrap(), "abc");
    let cut = "{% for m in messages %}{{ m['content'][:2] }}{% endfor %}";
    let t = ChatTemplate::new(cut, "", "").unwrap();
    assert!(t.render(&[msg("user", "abc")], false).is_err());
}
