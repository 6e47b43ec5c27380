//! gaffer-agents
