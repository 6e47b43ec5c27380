//! The project's policies, resolved: privacy (which endpoints agents may reach), write-scope
//! enforcement, model prices, and what `privacy.mode = "local"` forbids.

use super::*;

impl Check<'_> {
    pub(super) fn privacy(&self, raw: &RawPrivacy) -> Result<PrivacySettings, ConfigError> {
        let Some(at) = &raw.mode else {
            return Ok(PrivacySettings::default());
        };
        let mode = PrivacyMode::from_name(at.get_ref()).ok_or_else(|| {
            self.error(
                at,
                "privacy.mode",
                format!("privacy.mode = {} is not a privacy mode", self.written(at)),
                "use \"any\" (agents may call any endpoint) or \"local\" (only this machine \
                 and private networks)"
                    .to_string(),
            )
        })?;
        Ok(PrivacySettings { mode })
    }

    pub(super) fn scope(&self, raw: &RawScope) -> Result<ScopeSettings, ConfigError> {
        let Some(at) = &raw.enforce else {
            return Ok(ScopeSettings::default());
        };
        let enforce = ScopeEnforce::from_name(at.get_ref()).ok_or_else(|| {
            self.error(
                at,
                "scope.enforce",
                format!("scope.enforce = {} is not a mode", self.written(at)),
                "use \"reject\" (send the change back to its coder), \"review\" (show the \
                 paths to the reviewer) or \"off\""
                    .to_string(),
            )
        })?;
        Ok(ScopeSettings { enforce })
    }

    pub(super) fn prices(
        &self,
        raw: &BTreeMap<String, At<RawPrice>>,
    ) -> Result<BTreeMap<String, Price>, ConfigError> {
        let mut prices = BTreeMap::new();
        for (model, at) in raw {
            if model.trim().is_empty() {
                return Err(self.error(
                    at,
                    "prices",
                    "a [prices] table has an empty model name".to_string(),
                    "name the model as its agents report it, e.g. [prices.\"gpt-4o\"]".to_string(),
                ));
            }
            let table = format!("prices.{model}");
            let raw = at.get_ref();
            let amount = |at: &At<f64>, what: &str| {
                let value = *at.get_ref();
                if value.is_finite() && value >= 0.0 {
                    return Ok(value);
                }
                let key = format!("{table}.{what}");
                Err(self.error(
                    at,
                    &key,
                    format!(
                        "{key} = {} is not a price: it must be zero or more",
                        self.written(at)
                    ),
                    "write US dollars per million tokens, e.g. input = 3.0".to_string(),
                ))
            };
            prices.insert(
                model.clone(),
                Price {
                    input: amount(&raw.input, "input")?,
                    output: amount(&raw.output, "output")?,
                    cached_input: raw
                        .cached_input
                        .as_ref()
                        .map(|at| amount(at, "cached_input"))
                        .transpose()?,
                },
            );
        }
        Ok(prices)
    }

    /// Under `privacy.mode = "local"`, the error listing every agent whose endpoint is not local.
    pub(super) fn local_only(
        &self,
        settings: &Settings,
        raw: &RawConfig,
    ) -> Result<(), ConfigError> {
        let violations = settings.privacy_violations();
        if violations.is_empty() {
            return Ok(());
        }
        let list: String = violations
            .iter()
            .map(|(agent, endpoint, reason)| {
                format!("\n    agent `{agent}`: {endpoint} ({reason})")
            })
            .collect();
        let message = format!(
            "privacy.mode = \"local\", but {} would send code off this machine and its \
             private network:{list}",
            match violations.len() {
                1 => "1 agent".to_string(),
                n => format!("{n} agents"),
            }
        );
        let hint = "point each at a server on this machine or your network with base_url (e.g. \
                    base_url = \"http://127.0.0.1:11434/v1\"), remove it, or set privacy.mode = \"any\""
            .to_string();
        Err(match &raw.privacy.mode {
            Some(at) => self.error(at, "privacy.mode", message, hint),
            None => self.source.invalid(None, "privacy.mode", message, hint),
        })
    }
}
