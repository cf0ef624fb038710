//! Whole synthetic documents for benchmarks: benign English prose, and secret-dense text in
//! which a generated secret (with the words people put before it) appears every line or two.

use super::{Sample, SampleRng};

/// Common English words, the vocabulary of the generated prose.
const WORDS: &str = "\
    the a of to and in that for it with as was on be at by this had not are but from or have \
    an they which one you were all we when your can said there use each she how their will \
    other about out many then them these some her would make like him into time has look two \
    more write see number way could people than first water been call who its now find long \
    down day did get come made may part over new sound take only little work know place year \
    live back give most very after thing our just name good sentence man think say great \
    where help through much before line right too mean old any same tell boy follow came \
    want show also around form three small set put end does another well large must big even \
    such because turn here why ask went men read need land different home us move try kind \
    hand picture again change off play spell air away animal house point page letter mother \
    answer found study still learn should world high every near add food between own below \
    country plant last school father keep tree never start city earth eye light thought head \
    under story saw left few while along might close something seem next hard open example \
    begin life always those both paper together got group often run important until children \
    side feet car mile night walk white sea began grow took river four carry state once book \
    hear stop without second later miss idea enough eat face watch far really almost let \
    above girl sometimes mountain cut young talk soon list song being leave family meeting \
    budget quarter team customer report market plan project schedule review policy office \
    manager contract product ";

const NUMBER_PHRASES: &[&str] = &[
    "in {y}",
    "about {n} percent",
    "on page {n}",
    "for {n} days",
    "by {y}",
    "around {n}.{d} million",
    "at {h}:{m}",
    "in room {n}",
    "{n} people",
];

/// About `bytes` bytes of English-like prose: paragraphs of sentences wrapped at 80 columns,
/// with the occasional year, percentage or time.
pub fn prose(rng: &mut SampleRng, bytes: usize) -> String {
    let vocabulary: Vec<&str> = WORDS.split_ascii_whitespace().collect();
    let mut out = String::with_capacity(bytes + 200);
    while out.len() < bytes {
        let mut col = 0;
        for _ in 0..3 + rng.below(5) {
            let s = sentence(rng, &vocabulary);
            for word in s.split(' ') {
                if col + word.len() + 1 > 80 {
                    out.push('\n');
                    col = 0;
                } else if col > 0 {
                    out.push(' ');
                    col += 1;
                }
                out.push_str(word);
                col += word.len();
            }
        }
        out.push_str("\n\n");
    }
    out
}

fn sentence(rng: &mut SampleRng, vocabulary: &[&str]) -> String {
    let n = 6 + rng.below(17);
    let mut words: Vec<String> = (0..n).map(|_| (*rng.pick(vocabulary)).to_owned()).collect();
    if rng.below(5) == 0 {
        let phrase = rng
            .pick(NUMBER_PHRASES)
            .replace("{y}", &(1990 + rng.below(40)).to_string())
            .replace("{n}", &(1 + rng.below(500)).to_string())
            .replace("{d}", &rng.below(10).to_string())
            .replace("{h}", &(1 + rng.below(12)).to_string())
            .replace("{m}", &format!("{:02}", rng.below(60)));
        let at = rng.below(words.len());
        words.insert(at, phrase);
    }
    if n > 10 && rng.below(2) == 0 {
        let at = 3 + rng.below(n - 6);
        words[at].push(',');
    }
    if let Some(first) = words.first_mut() {
        if let Some(c) = first.get_mut(..1) {
            c.make_ascii_uppercase();
        }
    }
    let end = match rng.below(20) {
        0 => "?",
        1 => "!",
        _ => ".",
    };
    format!("{}{end}", words.join(" "))
}

/// What people write before a value of this kind.
fn lead(s: Sample) -> &'static str {
    match s {
        Sample::CreditCard => "Please charge my card",
        Sample::Iban => "Wire the deposit to IBAN",
        Sample::UsSsn => "Employee SSN:",
        Sample::EmailAddress => "Contact:",
        Sample::AwsAccessKeyId => "aws_access_key_id =",
        Sample::AwsSecretAccessKey => "aws_secret_access_key =",
        Sample::GithubToken | Sample::GithubFineGrainedToken => "export GITHUB_TOKEN=",
        Sample::GitlabToken => "GITLAB_TOKEN:",
        Sample::SlackBotToken | Sample::SlackUserToken => "slack token",
        Sample::SlackWebhook => "webhook:",
        Sample::StripeSecretKey => "STRIPE_SECRET_KEY=",
        Sample::OpenaiApiKey | Sample::OpenaiProjectKey => "OPENAI_API_KEY=",
        Sample::AnthropicApiKey => "x-api-key:",
        Sample::GoogleApiKey => "key=",
        Sample::PrivateKey | Sample::OpensshPrivateKey => "key file:\n",
        Sample::Jwt => "Authorization: Bearer",
        Sample::GitlabOtherToken | Sample::GitlabRunnerToken => "GITLAB_TOKEN:",
        Sample::SlackAppToken | Sample::SlackConfigToken => "slack token",
        Sample::StripeTestKey => "STRIPE_SECRET_KEY=",
        Sample::UkNino => "National Insurance number:",
        Sample::CaSin => "SIN:",
        Sample::DeTaxId => "Steuer-ID:",
        Sample::FrNir => "NIR :",
        Sample::InAadhaar => "Aadhaar:",
        Sample::InPan => "PAN:",
        Sample::BrCpf => "CPF:",
        Sample::AzureStorageKey => "connection string:",
        Sample::AzureSasToken => "SAS URL:",
        Sample::GcpServiceAccount => "key.json:\n",
        Sample::HuggingfaceToken => "HF_TOKEN=",
        Sample::TwilioAuthToken => ".env:\n",
        Sample::SendgridApiKey => "SENDGRID_API_KEY=",
        Sample::NpmToken => "//registry.npmjs.org/:_authToken=",
        Sample::PypiToken => "password =",
        Sample::DatabaseUrl => "DATABASE_URL=",
    }
}

/// About `bytes` bytes where every line carries a generated secret after its usual lead-in,
/// every other line followed by a short sentence. Private keys are rarer (they are long).
pub fn secret_dense(rng: &mut SampleRng, bytes: usize) -> String {
    let vocabulary: Vec<&str> = WORDS.split_ascii_whitespace().collect();
    let mut out = String::with_capacity(bytes + 4096);
    while out.len() < bytes {
        let mut kind = *rng.pick(&Sample::ALL[..Sample::SECRET_DENSE_KINDS]);
        while matches!(kind, Sample::PrivateKey | Sample::OpensshPrivateKey) && rng.below(8) != 0 {
            kind = *rng.pick(&Sample::ALL[..Sample::SECRET_DENSE_KINDS]);
        }
        let value = kind.generate(rng);
        out.push_str(lead(kind));
        if !lead(kind).ends_with(['=', '\n']) {
            out.push(' ');
        }
        out.push_str(&value);
        out.push('\n');
        if rng.below(2) == 0 {
            let s = sentence(rng, &vocabulary);
            out.push_str(&s[..s.len().min(60)]);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_have_the_asked_size() {
        let p = prose(&mut SampleRng::new(1), 10_000);
        assert!((10_000..11_000).contains(&p.len()));
        assert!(p.lines().all(|l| l.len() <= 80 || !l.contains(' ')));
        let d = secret_dense(&mut SampleRng::new(1), 10_000);
        assert!(d.len() >= 10_000 && d.lines().count() > 60);
    }
}
