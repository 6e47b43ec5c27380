//! gaffer's own agent loop over HTTP model APIs.
