//! Risk from the configuration's label and path rules, mapped onto the core's risk scale.

use gaffer_config::Settings;
use gaffer_core::Risk;

pub(crate) fn to_core(risk: gaffer_config::Risk) -> Risk {
    match risk {
        gaffer_config::Risk::Low => Risk::Low,
        gaffer_config::Risk::Medium => Risk::Medium,
        gaffer_config::Risk::High => Risk::High,
        gaffer_config::Risk::Critical => Risk::Critical,
    }
}

/// The risk the label rules give a task.
pub(crate) fn for_labels(settings: &Settings, labels: &[String]) -> Option<Risk> {
    settings.risk.risk_for_labels(labels).map(to_core)
}

/// The risk the path rules give a change touching `paths`.
pub(crate) fn for_paths(settings: &Settings, paths: &[String]) -> Option<Risk> {
    settings.risk.risk_for_paths(paths).map(to_core)
}
