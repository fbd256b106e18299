//! The `webhook` benchmark's HTTP client: one keep-alive HTTP/1.1 connection per message in
//! flight, as lean as a load generator can be while the service still sees ordinary HTTP/1.1
//! over TCP.

use anyhow::{bail, Context as _};
use sheetsync::webhook::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// One HTTP/1.1 keep-alive connection per message in flight, driven by a minimal client in
/// the way of `wrk`: each request written whole (request line, headers, body) with one write,
/// each answer's status line and headers parsed with `httparse` (the parser hyper uses) and its
/// body read to its `Content-Length`. A load generator that costs little CPU, so the machine's
/// two CPUs go to the service and MariaDB, as the baseline's `mysql_async` client leaves them to
/// MariaDB; the service sees ordinary HTTP/1.1 over TCP.
pub struct Connection {
    stream: tokio::net::TcpStream,
    /// Bytes read and not yet consumed (an answer arrives in one or more reads).
    buffer: Vec<u8>,
}

/// `count` connections to `url`'s host.
pub async fn connect(url: &str, count: usize) -> anyhow::Result<Vec<Connection>> {
    let (address, _) = address_and_path(url)?;
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .with_context(|| format!("connect to {address}"))?;
        stream.set_nodelay(true)?;
        connections.push(Connection {
            stream,
            buffer: Vec::with_capacity(4096),
        });
    }
    Ok(connections)
}

/// (`host:port`, path) of an `http://host:port/path` URL.
pub fn address_and_path(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url} is not an http:// URL"))?;
    let (address, path) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((address.to_string(), format!("/{path}")))
}

impl Connection {
    /// POSTs one signed message; (status, body) of the answer.
    pub async fn post(
        &mut self,
        head: &str,
        (timestamp, signature, body): &(String, String, Vec<u8>),
        request: &mut Vec<u8>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        use std::io::Write as _;
        use tokio::io::AsyncWriteExt as _;
        request.clear();
        write!(
            request,
            "{head}content-length: {}\r\n{TIMESTAMP_HEADER}: {timestamp}\r\n{SIGNATURE_HEADER}: {signature}\r\n\r\n",
            body.len()
        )?;
        request.extend_from_slice(body);
        self.stream.write_all(request).await.context("send")?;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut answer = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(header_length) = answer.parse(&self.buffer)? {
                let status = answer.code.context("status")?;
                let length: usize = answer
                    .headers
                    .iter()
                    .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|header| std::str::from_utf8(header.value).ok())
                    .and_then(|value| value.trim().parse().ok())
                    .context("an answer without Content-Length")?;
                while self.buffer.len() < header_length + length {
                    self.read_more().await?;
                }
                let body = self.buffer[header_length..header_length + length].to_vec();
                self.buffer.drain(..header_length + length);
                return Ok((status, body));
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        use tokio::io::AsyncReadExt as _;
        let mut chunk = [0u8; 4096];
        let read = self
            .stream
            .read(&mut chunk)
            .await
            .context("read the answer")?;
        if read == 0 {
            bail!("the service closed the connection");
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::address_and_path;

    #[test]
    fn an_http_url_splits_into_its_address_and_path() {
        let split = |url: &str| address_and_path(url).map_err(|error| error.to_string());
        assert_eq!(
            split("http://127.0.0.1:8080/webhook"),
            Ok(("127.0.0.1:8080".into(), "/webhook".into()))
        );
        assert_eq!(
            split("http://127.0.0.1:8080"),
            Ok(("127.0.0.1:8080".into(), "/".into()))
        );
        assert_eq!(
            split("https://example.com/webhook"),
            Err("https://example.com/webhook is not an http:// URL".into())
        );
    }
}
