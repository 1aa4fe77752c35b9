//! A small HTTP API over a PostgreSQL pool (the guides' aiohttp server with asyncpg behind it):
//! `POST /users` inserts a user from its JSON body, `GET /users/{id}` reads one back, 404 for an
//! id that does not exist and 400 for a body that is not the JSON expected. The handlers share
//! one `Pool` (a clone per handler: it is an `Arc`). It needs a server (`CONDUCTOR_PG_DSN`;
//! the tour skips it, saying so, without one).
//!
//! The Python program (aiohttp and asyncpg):
//!
//! ```text
//! async def create(request):
//!     data = await request.json()
//!     row = await request.app["pool"].fetchrow(
//!         "INSERT INTO users (name) VALUES ($1) RETURNING id, name", data["name"])
//!     return web.json_response(dict(row), status=201)
//!
//! async def read(request):
//!     row = await request.app["pool"].fetchrow(
//!         "SELECT id, name FROM users WHERE id = $1", int(request.match_info["id"]))
//!     if row is None:
//!         raise web.HTTPNotFound()
//!     return web.json_response(dict(row))
//!
//! app = web.Application()
//! app["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
//! app.add_routes([web.post("/users", create), web.get("/users/{id}", read)])
//! ```

use std::time::Duration;

use conductor_http::{HttpRequest, HttpResponse, Router, Server, json_response, match_info};
use conductor_http::{status_response, text_response};
use conductor_postgres::Pool;
use examples::http_client::{get, request};
use http::StatusCode;
use serde_json::json;

const TABLE: &str = "conductor_example_api_users";

/// Answers a database error with 500 and its message (aiohttp logs it and answers 500 too).
fn server_error(e: conductor_postgres::Error) -> HttpResponse {
    text_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn create(pool: Pool, req: HttpRequest) -> HttpResponse {
    let body: serde_json::Value = match req.into_body().json().await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(name) = body["name"].as_str() else {
        return text_response(StatusCode::BAD_REQUEST, "expected {\"name\": \"...\"}");
    };
    let sql = format!("INSERT INTO {TABLE} (name) VALUES ($1) RETURNING id, name");
    match pool.fetchrow(&sql, &[&name]).await {
        Ok(Some(row)) => {
            let mut resp = json_response(
                &json!({ "id": row.get::<_, i32>("id"), "name": row.get::<_, &str>("name") }),
            );
            *resp.status_mut() = StatusCode::CREATED;
            resp
        }
        Ok(None) => status_response(StatusCode::INTERNAL_SERVER_ERROR),
        Err(e) => server_error(e),
    }
}

async fn read(pool: Pool, req: HttpRequest) -> HttpResponse {
    let Some(id) = match_info(&req)
        .get("id")
        .and_then(|s| s.parse::<i32>().ok())
    else {
        return status_response(StatusCode::NOT_FOUND);
    };
    let sql = format!("SELECT id, name FROM {TABLE} WHERE id = $1");
    match pool.fetchrow(&sql, &[&id]).await {
        Ok(Some(row)) => json_response(
            &json!({ "id": row.get::<_, i32>("id"), "name": row.get::<_, &str>("name") }),
        ),
        Ok(None) => status_response(StatusCode::NOT_FOUND),
        Err(e) => server_error(e),
    }
}

fn app(pool: Pool) -> Router {
    let for_create = pool.clone();
    Router::new()
        .post("/users", move |req| create(for_create.clone(), req))
        .get("/users/{id}", move |req| read(pool.clone(), req))
}

#[conductor::main]
pub async fn main() {
    let Some(config) = examples::postgres_config().await else {
        return;
    };
    let pool = match Pool::builder(config).min_size(2).max_size(10).build().await {
        Ok(pool) => pool,
        Err(e) => return println!("error: {e}"),
    };
    let setup = format!(
        "DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id serial PRIMARY KEY, name text NOT NULL)"
    );
    if let Err(e) = pool.acquire().await.unwrap().execute_script(&setup).await {
        return println!("error: {e}");
    }

    let listener = conductor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let running = Server::new().start(listener, app(pool.clone()));
    let addr = running.local_addr().unwrap();

    for name in ["ada", "grace"] {
        let (status, body) =
            request(addr, "POST", "/users", &json!({ "name": name }).to_string()).await;
        println!("POST /users {name}: {status} {body}");
    }
    for path in ["/users/2", "/users/3"] {
        let (status, body) = get(addr, path).await;
        println!("GET {path}: {status} {body}");
    }
    let (status, _) = request(addr, "POST", "/users", "not json").await;
    println!("POST /users (not JSON): {status}");

    running.shutdown(Duration::from_secs(5)).await;
    let _ = pool.execute(&format!("DROP TABLE {TABLE}"), &[]).await;
    pool.close().await;
    println!("server stopped, pool closed");
}
