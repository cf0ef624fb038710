//! The tunnel port's posture report parser (agents post it; a stolen device cert could too).

use devices::agent_port::parse_posture;

/// What the parser accepts stays within its bounds.
pub fn posture(data: &[u8]) {
    if let Some(posture) = parse_posture(data) {
        assert!(posture.len() <= 64);
        assert!(posture
            .iter()
            .all(|(k, v)| k.len() <= 64 && v.len() <= 256 && !v.contains(';')));
    }
}
